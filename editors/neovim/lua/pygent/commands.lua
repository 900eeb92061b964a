--- pygent.commands: slash commands for `:Pygent /name args` and the chat's prompt area.
---
--- The built-in ones (`/help`, `/new`, `/sessions`, `/mode`, `/model`) call the plugin's own
--- functions; the plugins' are listed by the server (`pygent/commands/list`, asked for whenever a
--- session opens) and run on it (`pygent/commands/run`). Their text goes into the chat as its own
--- block (`### /name args`), never as the model's answer; an error answer is a `vim.notify` at
--- ERROR level (and a line in the chat), and nothing else changes.
local M = {}

---@class pygent.SlashCommand
---@field name string Without the slash.
---@field help string
---@field source string `built-in`, or the plugin's entry-point name.
---@field usage string? What follows the name (`[MODE]`).

M.BUILTIN_SOURCE = 'built-in'

---@type pygent.SlashCommand[]
M.BUILTIN = {
  { name = 'help', help = 'list the commands', source = 'built-in' },
  { name = 'new', help = 'start a new session (the chat is cleared)', source = 'built-in' },
  { name = 'sessions', help = 'pick a session of this workspace and replay it', source = 'built-in' },
  { name = 'mode', usage = '[MODE]', help = 'set the permission mode (no argument: pick one)', source = 'built-in' },
  { name = 'model', usage = '[NAME]', help = 'set the model of the session (no argument: show it)', source = 'built-in' },
}

--- The plugins' commands as the server last listed them; nil until it has been asked.
---@type pygent.SlashCommand[]?
M.plugin = nil

local builtin_names = {}
for _, c in ipairs(M.BUILTIN) do
  builtin_names[c.name] = true
end

--- `/name args` split (args trimmed; they may span lines), or nil when `text` is not a command:
--- it must start with `/` and a word without another slash (`/usr/bin/python fails` is a prompt).
---@param text string
---@return string? name, string? args
function M.parse(text)
  local name, rest = text:match('^/([^%s/]+)(.*)$')
  if not name then
    return nil
  end
  if rest ~= '' and not rest:match('^%s') then
    return nil
  end
  return name, vim.trim(rest)
end

--- The plugin commands of a `pygent/commands/list` answer (malformed entries are left out).
---@param result any
---@return pygent.SlashCommand[]
function M.from_list(result)
  local out = {}
  local commands = type(result) == 'table' and result.commands or nil
  if type(commands) ~= 'table' then
    return out
  end
  for _, c in ipairs(commands) do
    if type(c) == 'table' and type(c.name) == 'string' and c.name:match('^[^%s/]+$') then
      table.insert(out, {
        name = c.name,
        help = type(c.help) == 'string' and c.help or '',
        source = type(c.source) == 'string' and c.source or 'plugin',
      })
    end
  end
  table.sort(out, function(a, b)
    return a.name < b.name
  end)
  return out
end

--- Every command: the built-in ones, then the plugins' (one named like a built-in one is left
--- out: the built-in one runs for that name).
---@return pygent.SlashCommand[]
function M.all()
  local out = vim.list_slice(M.BUILTIN)
  for _, c in ipairs(M.plugin or {}) do
    if not builtin_names[c.name] then
      table.insert(out, c)
    end
  end
  return out
end

---@param name string
---@return pygent.SlashCommand?
local function find_plugin(name)
  for _, c in ipairs(M.plugin or {}) do
    if c.name == name and not builtin_names[name] then
      return c
    end
  end
  return nil
end

--- Ask the server for the plugins' commands (called when a session opens). A server without the
--- method (older) or an error leaves the list empty; the built-in commands still work.
---@param client vim.lsp.Client
---@param session_id string
---@param cb fun(commands: pygent.SlashCommand[])?
function M.refresh(client, session_id, cb)
  require('pygent.client').request(client, 'pygent/commands/list', { sessionId = session_id }, function(err, result)
    if err then
      M.plugin = {}
      vim.schedule(function()
        vim.notify('pygent: no plugin commands (pygent/commands/list failed: ' .. tostring(err.message) .. ')',
          vim.log.levels.DEBUG)
      end)
    else
      M.plugin = M.from_list(result)
    end
    if cb then
      cb(M.plugin)
    end
  end)
end

--- The plugin commands, asking the server (and waiting up to `timeout` ms) when they have not
--- been listed yet: completion must offer them the first time too.
---@param timeout integer?
---@return pygent.SlashCommand[]
function M.plugin_commands(timeout)
  if M.plugin then
    return M.plugin
  end
  local done = false
  require('pygent.client').with_session(function(c, sid)
    if not c or not sid then
      done = true
      return
    end
    if M.plugin then
      done = true
      return
    end
    M.refresh(c, sid, function()
      done = true
    end)
  end)
  vim.wait(timeout or 5000, function()
    return done
  end, 20)
  return M.plugin or {}
end

--- `:Pygent` completion: the commands whose `/name` starts with `arglead` (first word only).
---@param arglead string
---@param cmdline string
---@return string[]
function M.complete_cmdline(arglead, cmdline)
  local words_before = cmdline:gsub('^%s*%S+', '', 1) -- drop the command name (:Pygent, :'<,'>Pygent)
  if not arglead:match('^/') or words_before:sub(1, #words_before - #arglead):match('%S') then
    return {}
  end
  M.plugin_commands()
  local out = {}
  for _, c in ipairs(M.all()) do
    local word = '/' .. c.name
    if vim.startswith(word, arglead) then
      table.insert(out, word)
    end
  end
  return out
end

--- Ask for the plugin commands in the background (a session is opened if none is): for callers
--- that must not wait.
function M.refresh_later()
  vim.schedule(function()
    require('pygent.client').with_session(function(c, sid)
      if c and sid and not M.plugin then
        M.refresh(c, sid)
      end
    end)
  end)
end

--- 'completefunc' of the chat's prompt area (`<C-x><C-u>` after a `/` at the start of the
--- prompt): the commands with their help and source. Insert-mode completion runs under
--- 'textlock', where waiting for the server would break the chat's own updates; so before the
--- first session it offers the built-in commands and asks for the plugin ones in the background
--- (the next `<C-x><C-u>` has them).
---@param findstart integer
---@param base string
---@return integer|table
function M.completefunc(findstart, base)
  local line = vim.api.nvim_get_current_line()
  local col = vim.api.nvim_win_get_cursor(0)[2]
  if findstart == 1 then
    local before = line:sub(1, col)
    if before:match('^/[^%s/]*$') then
      return 0
    end
    return -3 -- not in a command word: cancel silently
  end
  if not M.plugin then
    M.refresh_later()
  end
  local items = {}
  for _, c in ipairs(M.all()) do
    local word = '/' .. c.name
    if vim.startswith(word, base) then
      table.insert(items, {
        word = word,
        abbr = word .. (c.usage and (' ' .. c.usage) or ''),
        menu = c.source == M.BUILTIN_SOURCE and '[built-in]' or ('[' .. c.source .. ']'),
        info = c.help,
      })
    end
  end
  return items
end

--- The `/help` text: one line per command, the plugin ones naming their plugin.
---@return string[]
function M.help_lines()
  local lines = {}
  for _, c in ipairs(M.all()) do
    local source = c.source == M.BUILTIN_SOURCE and '' or (' (plugin ' .. c.source .. ')')
    local help = c.help ~= '' and c.help or 'no description'
    table.insert(lines, ('- `/%s%s` — %s%s'):format(c.name, c.usage and (' ' .. c.usage) or '', help, source))
  end
  return lines
end

---@param message string
local function fail(message)
  vim.notify('pygent: ' .. message, vim.log.levels.ERROR)
end

--- Run a plugin's command on the server; its text (or error) goes into the chat.
---@param name string
---@param args string
---@param on_done fun(err: string?, text: string?)?
function M.run_plugin(name, args, on_done)
  on_done = on_done or function() end
  local client = require('pygent.client')
  local chat = require('pygent.chat')
  local invocation = '/' .. name .. (args ~= '' and (' ' .. args) or '')
  chat.open({ focus = false })
  client.with_session(function(c, sid, err)
    if not c or not sid then
      local message = tostring(err)
      chat.command_output(invocation, nil, nil, message)
      fail(message)
      return on_done(message)
    end
    client.request(c, 'pygent/commands/run', { sessionId = sid, name = name, args = args }, function(rerr, result)
      local command = find_plugin(name)
      local source = command and command.source or nil
      if rerr then
        local message = rerr.message or vim.inspect(rerr)
        if rerr.code == -32601 then
          message = 'this pygent server has no plugin commands (update pygent, then restart Neovim)'
        end
        local hint = type(rerr.data) == 'table' and type(rerr.data.hint) == 'string' and rerr.data.hint or nil
        if hint and message:find(hint, 1, true) then
          hint = nil -- the server's message already says it
        end
        chat.command_output(invocation, source, nil, message, hint)
        fail(message .. (hint and ('\n' .. hint) or ''))
        return on_done(message)
      end
      local text = type(result) == 'table' and type(result.text) == 'string' and result.text or ''
      if text == '' then
        text = ('/%s returned nothing.'):format(name)
      end
      chat.command_output(invocation, source, text)
      on_done(nil, text)
    end)
  end)
end

--- Run `text` if it is a slash command.
---
--- Returns nil when `text` is not a command (send it to the model), true when the command runs,
--- false when it was refused at once (an unknown name, a bad argument: the message is a
--- `vim.notify` at ERROR level, and the caller keeps the text so it can be fixed).
---@param text string
---@param opts { on_done: fun(err: string?, text: string?)? }?
---@return boolean?
function M.run(text, opts)
  opts = opts or {}
  local name, args = M.parse(text)
  if not name then
    return nil
  end
  args = args or ''
  local pygent = require('pygent')
  if name == 'help' then
    local chat = require('pygent.chat')
    chat.open({ focus = false })
    M.plugin_commands()
    chat.command_output('/help', nil, table.concat(M.help_lines(), '\n'))
    return true
  elseif name == 'new' then
    pygent.new_session()
    return true
  elseif name == 'sessions' then
    pygent.sessions()
    return true
  elseif name == 'mode' then
    if args == '' then
      pygent.pick_mode()
    elseif not args:match('^[%w_-]+$') then
      fail(('not a permission mode: %q. Modes: %s'):format(args, table.concat(require('pygent.client').mode_ids(), ', ')))
      return false
    else
      pygent.set_mode(args)
    end
    return true
  elseif name == 'model' then
    if args == '' then
      local model = require('pygent.chat').model
      vim.notify('pygent: model ' .. (model or "(pygent's default)") .. '; /model NAME switches it', vim.log.levels.INFO)
    elseif args:match('%s') then
      fail(('a model name has no spaces: %q (example: /model openai/gpt-4.1)'):format(args))
      return false
    else
      pygent.set_model(args)
    end
    return true
  end
  -- Not listed yet (no session so far): the server is asked and answers an unknown name itself.
  if M.plugin and not find_plugin(name) then
    local known = vim.tbl_map(function(c)
      return '/' .. c.name
    end, M.all())
    fail(('unknown command /%s. Commands: %s. To send text that starts with / to the model, type // instead of /.')
      :format(name, table.concat(known, ', ')))
    return false
  end
  M.run_plugin(name, args, opts.on_done)
  return true
end

return M
