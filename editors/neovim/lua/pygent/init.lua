--- pygent: an AI coding agent in Neovim, as a thin client of `pygent serve`.
---
--- Public API (everything the user commands call):
---   require('pygent').setup(opts)
---   require('pygent').prompt(text, opts)
---   require('pygent').chat() / cancel() / sessions() / load_session(id) / set_mode(mode) / pick_mode()
---   require('pygent').set_model(model)
local config = require('pygent.config')

local M = {}

--- Configure the plugin. Optional: every option has a default (see `:help pygent-config`).
---@param opts pygent.Config|table|nil
function M.setup(opts)
  config.setup(opts)
end

---@class pygent.PromptOpts
---@field bufnr integer? Buffer to attach as context (default: the current buffer).
---@field range { [1]: integer, [2]: integer }? 1-based inclusive line range to embed as a `resource` block.
---@field context boolean? Attach the buffer at all (default true).
---@field on_done fun(err: string?, result: table?)? Called when the turn ends.

--- Content blocks for a buffer (and an optional line range of it).
---@param bufnr integer
---@param range { [1]: integer, [2]: integer }?
---@return table[]
function M.context_blocks(bufnr, range)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' then
    return {}
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local blocks = { { type = 'resource_link', uri = uri, name = vim.fs.basename(name) } }
  if range then
    local first, last = math.min(range[1], range[2]), math.max(range[1], range[2])
    local lines = vim.api.nvim_buf_get_lines(bufnr, first - 1, last, false)
    table.insert(blocks, {
      type = 'resource',
      resource = {
        uri = ('%s#L%d-L%d'):format(uri, first, last),
        text = table.concat(lines, '\n') .. '\n',
        mimeType = 'text/plain',
      },
    })
  end
  return blocks
end

--- Send a prompt (opens the chat without stealing focus). The current buffer is attached as a
--- `resource_link`; with `opts.range` the lines are embedded as a `resource` block.
---@param text string
---@param opts pygent.PromptOpts?
function M.prompt(text, opts)
  opts = opts or {}
  local chat = require('pygent.chat')
  local client = require('pygent.client')
  text = vim.trim(text or '')
  if text == '' then
    chat.open()
    return
  end
  -- `/name args` runs a command (also during a turn: commands do not talk to the model).
  local ran = require('pygent.commands').run(text, { on_done = opts.on_done })
  if ran ~= nil then
    return
  end
  if text:match('^//[^%s/]') then
    text = text:sub(2) -- `//word` sends `/word` to the model
  end
  if chat.busy then
    vim.notify('pygent: a turn is already running; wait for it or :PygentCancel', vim.log.levels.WARN)
    return
  end
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local blocks = { { type = 'text', text = text } }
  if opts.context ~= false and bufnr ~= chat.bufnr then
    vim.list_extend(blocks, M.context_blocks(bufnr, opts.range))
  end
  chat.open({ focus = false })
  chat.user_message(text)
  chat.set_busy(true)
  client.with_client(function(c, err)
    if not c then
      chat.on_turn_done(err)
      if opts.on_done then
        opts.on_done(err)
      end
      return
    end
    if opts.context ~= false and bufnr ~= chat.bufnr and vim.api.nvim_buf_is_valid(bufnr) then
      client.attach_buffer(bufnr)
    end
    client.prompt(blocks, function(perr, result)
      chat.on_turn_done(perr, result)
      if opts.on_done then
        opts.on_done(perr, result)
      end
    end)
  end)
end

--- Start a new session: the chat is cleared and the next prompt (or command) opens a session.
---@param cb fun(err: string?)?
function M.new_session(cb)
  cb = cb or function() end
  local client = require('pygent.client')
  local chat = require('pygent.chat')
  if chat.busy then
    vim.notify('pygent: a turn is running; :PygentCancel it before starting a new session', vim.log.levels.WARN)
    return cb('busy')
  end
  client.session_id = nil
  client.resume_id = nil
  chat.reset()
  chat.open({ focus = false })
  client.with_session(function(c, sid, err)
    if not c or not sid then
      vim.notify('pygent: ' .. tostring(err), vim.log.levels.ERROR)
      return cb(err)
    end
    chat.note('new session ' .. sid)
    cb(nil)
  end)
end

--- Open or focus the chat window.
function M.chat()
  require('pygent.chat').open()
end

--- Cancel the running turn.
function M.cancel()
  -- A review still open belongs to the turn being cancelled: reject it so nothing is applied late.
  local review = require('pygent.review')
  for _, r in ipairs(vim.list_slice(review.active)) do
    review.reject(r, 'The user cancelled the turn.')
  end
  if not require('pygent.client').cancel() then
    vim.notify('pygent: nothing to cancel', vim.log.levels.INFO)
  end
end

--- Replay session `session_id` into the chat and continue it.
---@param session_id string
---@param cb fun(err: string?)?
function M.load_session(session_id, cb)
  cb = cb or function() end
  local client = require('pygent.client')
  local chat = require('pygent.chat')
  client.with_client(function(c, err)
    if not c then
      vim.notify('pygent: ' .. err, vim.log.levels.ERROR)
      return cb(err)
    end
    local previous = client.session_id
    client.session_id = session_id
    client.resume_id = nil
    chat.reset()
    chat.open({ focus = false })
    client.request(c, 'pygent/session/load', { sessionId = session_id, cwd = client.root_dir, mcpServers = {} },
      function(rerr, result)
        if rerr then
          client.session_id = previous
          local msg = 'could not load session ' .. session_id .. ': ' .. (rerr.message or vim.inspect(rerr))
          chat.note(msg)
          vim.notify('pygent: ' .. msg, vim.log.levels.ERROR)
          return cb(msg)
        end
        client.take_modes(type(result) == 'table' and result.modes or nil)
        require('pygent.commands').refresh(c, session_id)
        chat.note('session ' .. session_id .. ' loaded')
        cb(nil)
      end)
  end)
end

---@param s table
---@return string
local function format_session(s)
  local title = (s.title and s.title ~= vim.NIL and s.title ~= '') and s.title or '(untitled)'
  local parts = { title }
  if s.updatedAt and s.updatedAt ~= vim.NIL then
    table.insert(parts, tostring(s.updatedAt))
  end
  if s.messageCount and s.messageCount ~= vim.NIL then
    table.insert(parts, ('%d messages'):format(s.messageCount))
  end
  return table.concat(parts, ' · ')
end

--- Pick a session of this workspace with vim.ui.select and replay it in the chat.
function M.sessions()
  local client = require('pygent.client')
  client.with_client(function(c, err)
    if not c then
      return vim.notify('pygent: ' .. err, vim.log.levels.ERROR)
    end
    client.request(c, 'pygent/session/list', { cwd = client.root_dir }, function(rerr, result)
      if rerr then
        return vim.notify('pygent: could not list sessions: ' .. (rerr.message or ''), vim.log.levels.ERROR)
      end
      local sessions = type(result) == 'table' and (result.sessions or result) or {}
      if #sessions == 0 then
        return vim.notify('pygent: no sessions in this workspace yet', vim.log.levels.INFO)
      end
      vim.ui.select(sessions, { prompt = 'pygent sessions', kind = 'pygent_session', format_item = format_session },
        function(choice)
          if choice then
            M.load_session(choice.sessionId)
          end
        end)
    end)
  end)
end

--- Pick one of the server's permission modes with vim.ui.select (names and descriptions from the
--- server's `availableModes`), then set it.
---@param cb fun(err: string?)?
function M.pick_mode(cb)
  cb = cb or function() end
  local client = require('pygent.client')
  client.with_session(function(c, _, err)
    if not c then
      vim.notify('pygent: ' .. tostring(err), vim.log.levels.ERROR)
      return cb(err)
    end
    local current = require('pygent.chat').mode
    vim.ui.select(client.modes, {
      prompt = 'pygent permission mode',
      kind = 'pygent_mode',
      format_item = function(m)
        local name = (m.name and m.name ~= vim.NIL) and m.name or m.id
        local desc = (m.description and m.description ~= vim.NIL) and (' — ' .. m.description) or ''
        return ('%s%s%s'):format(m.id == current and '* ' or '  ', name, desc)
      end,
    }, function(choice)
      if not choice then
        return cb(nil)
      end
      M.set_mode(choice.id, cb)
    end)
  end)
end

--- Set the permission mode of the current session (one of the ids the server lists in
--- `availableModes`; the server refuses any other with a message naming the valid ones).
---@param mode string
---@param cb fun(err: string?)?
function M.set_mode(mode, cb)
  cb = cb or function() end
  require('pygent.client').session_request('pygent/session/setMode', function(sid)
    return { sessionId = sid, modeId = mode }
  end, function(err)
    if err then
      vim.notify('pygent: could not set mode: ' .. err, vim.log.levels.ERROR)
      return cb(err)
    end
    local chat = require('pygent.chat')
    chat.mode = mode
    chat.set_busy(chat.busy)
    vim.notify('pygent: mode ' .. mode, vim.log.levels.INFO)
    cb(nil)
  end)
end

--- Set the model of the current session (a litellm model name).
---@param model string
---@param cb fun(err: string?)?
function M.set_model(model, cb)
  cb = cb or function() end
  require('pygent.client').session_request('pygent/session/setModel', function(sid)
    return { sessionId = sid, modelId = model }
  end, function(err)
    if err then
      vim.notify('pygent: could not set model: ' .. err, vim.log.levels.ERROR)
      return cb(err)
    end
    local chat = require('pygent.chat')
    chat.model = model
    chat.note('model: ' .. model)
    vim.notify('pygent: model ' .. model, vim.log.levels.INFO)
    cb(nil)
  end)
end

--- One-word status for a statusline: 'working', 'idle' or 'off'.
---@return string
function M.status()
  if not require('pygent.client').get() then
    return 'off'
  end
  return require('pygent.chat').busy and 'working' or 'idle'
end

return M
