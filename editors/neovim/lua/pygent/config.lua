--- pygent.config: the plugin's options, their defaults, and validation.
local M = {}

---@class pygent.Keymaps.Chat
---@field send string|false Send the prompt area (normal mode). Default `<CR>`.
---@field cancel string|false Cancel the running turn. Default `<C-c>`.
---@field close string|false Close the chat window. Default `q`.
---@field open_file string|false Open the file named under the cursor in the editing window. Default `gf`.
---@field open_file_at_line string|false Same, at the line it names (`app.py:42`). Default `gF`.

---@class pygent.Keymaps.Review
---@field accept string|false Accept every change of the review. Default `ga`.
---@field reject string|false Reject every change of the review. Default `gr`.
---@field reject_with_reason string|false Reject and tell the model why. Default `gR`.

---@class pygent.Keymaps
---@field chat pygent.Keymaps.Chat
---@field review pygent.Keymaps.Review

---@class pygent.Config
---@field cmd string[] Command that starts the server. Default `{ "pygent", "serve" }`.
---@field cmd_env table<string,string>? Extra environment for the server process.
---@field model string? Model for new sessions (litellm name, e.g. `anthropic/claude-sonnet-4-5`); nil = pygent's config.
---@field mode string? Permission mode for new sessions (an id the server lists, e.g. `ask`; the server warns about an unknown one); nil = pygent's config.
---@field init_options table? Extra `initializationOptions` sent to the server.
---@field root_markers string[] Files that mark the workspace root (searched upwards from the current buffer).
---@field attach_buffers boolean Sync buffers you send as context, so pygent sees unsaved text. Default true.
---@field chat { position: "right"|"left"|"above"|"below"|"tab", size: integer }
---@field review { write: boolean } `write`: save changed buffers after an accepted edit (default true).
---@field keymaps pygent.Keymaps

---@type pygent.Config
M.defaults = {
  cmd = { 'pygent', 'serve' },
  cmd_env = nil,
  model = nil,
  mode = nil,
  init_options = {},
  root_markers = { '.pygent', '.git', 'pyproject.toml', 'package.json', 'Cargo.toml', 'go.mod' },
  attach_buffers = true,
  chat = { position = 'right', size = 80 },
  review = { write = true },
  keymaps = {
    chat = { send = '<CR>', cancel = '<C-c>', close = 'q', open_file = 'gf', open_file_at_line = 'gF' },
    review = { accept = 'ga', reject = 'gr', reject_with_reason = 'gR' },
  },
}

---@type pygent.Config
M.options = vim.deepcopy(M.defaults)

--- Check user options; returns a list of problems (empty when fine).
---@param opts table
---@return string[]
function M.validate(opts)
  local problems = {}
  local function check(name, value, kinds)
    if value == nil then
      return
    end
    local ok = false
    for _, kind in ipairs(kinds) do
      if type(value) == kind then
        ok = true
      end
    end
    if not ok then
      table.insert(problems, ('%s must be %s, got %s'):format(name, table.concat(kinds, ' or '), type(value)))
    end
  end
  check('cmd', opts.cmd, { 'table' })
  if type(opts.cmd) == 'table' and (type(opts.cmd[1]) ~= 'string' or opts.cmd[1] == '') then
    table.insert(problems, 'cmd must be a list of strings, e.g. { "pygent", "serve" }')
  end
  check('cmd_env', opts.cmd_env, { 'table' })
  check('model', opts.model, { 'string' })
  check('mode', opts.mode, { 'string' })
  if type(opts.mode) == 'string' and not opts.mode:match('^[%w_-]+$') then
    table.insert(problems, ('mode must be a mode id such as "ask" (:PygentMode lists them); got %q'):format(opts.mode))
  end
  check('init_options', opts.init_options, { 'table' })
  check('keymaps', opts.keymaps, { 'table' })
  check('chat', opts.chat, { 'table' })
  check('review', opts.review, { 'table' })
  return problems
end

--- Merge `opts` over the defaults. Invalid options are reported and replaced by defaults.
---@param opts table?
---@return pygent.Config
function M.setup(opts)
  opts = opts or {}
  local problems = M.validate(opts)
  if #problems > 0 then
    vim.notify('pygent: invalid setup() options, using defaults for them:\n  ' .. table.concat(problems, '\n  '),
      vim.log.levels.WARN)
    for _, key in ipairs({ 'cmd', 'cmd_env', 'model', 'mode', 'init_options', 'keymaps', 'chat', 'review' }) do
      for _, p in ipairs(problems) do
        if vim.startswith(p, key .. ' ') then
          opts[key] = nil
        end
      end
    end
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  -- Lists replace, never merge by index ({ "python" } over { "pygent", "serve" } must not give { "python", "serve" }).
  for _, key in ipairs({ 'cmd', 'root_markers' }) do
    if opts[key] then
      M.options[key] = vim.deepcopy(opts[key])
    end
  end
  return M.options
end

return M
