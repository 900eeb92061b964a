-- Slash commands: the plugins' ones come from the real server (a test plugin installed with the
-- helper the Python tests use), complete in :Pygent and the prompt area, and run on the server.
local here = debug.getinfo(1, 'S').source:sub(2)
local repo = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(here)))))

-- tests/mcp/mcp_helpers.py::install_test_plugin writes the `testcmds` plugin (a real distribution
-- with an entry point) into a site directory; the server finds it through PYTHONPATH.
local site = vim.fn.tempname() .. '-site'
local install = vim.system({
  H.python,
  '-c',
  'import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); '
    .. 'from mcp_helpers import install_test_plugin; install_test_plugin(Path(sys.argv[2]))',
  repo .. '/tests/mcp',
  site,
}, { text = true }):wait(60000)
assert(install.code == 0, 'installing the test plugin failed: ' .. tostring(install.stderr))

local root = H.project({})
local fake = H.fake_llm({ { text = 'A real answer.' }, { text = 'Still here.' }, { text = 'Third.' } })
local pythonpath = vim.env.PYTHONPATH
H.setup_plugin(fake, {
  cmd_env = { PYTHONPATH = site .. ((pythonpath and pythonpath ~= '') and ((vim.fn.has('win32') == 1 and ';' or ':') .. pythonpath) or '') },
})
local client = require('pygent.client')
local commands = require('pygent.commands')
local chat = require('pygent.chat')

-- Every vim.notify, kept (not shown: an ERROR message inside vim.cmd would raise).
local notified = {} ---@type { msg: string, level: integer? }[]
vim.notify = function(msg, level)
  table.insert(notified, { msg = msg, level = level })
end
local function errors()
  return vim.tbl_filter(function(n)
    return n.level == vim.log.levels.ERROR
  end, notified)
end

it(':Pygent completion lists the built-in and the plugin commands (asking the server the first time)', function()
  H.eq(nil, client.get(), 'no server yet')
  local items = vim.fn.getcompletion('Pygent /', 'cmdline')
  H.eq({ '/help', '/new', '/sessions', '/mode', '/model', '/boom', '/legacy', '/number', '/shout' }, items)
  H.eq({ '/sessions', '/shout' }, vim.fn.getcompletion('Pygent /s', 'cmdline'))
  H.eq({}, vim.fn.getcompletion('Pygent explain /', 'cmdline'), 'only the first word is a command')
  H.eq({}, vim.fn.getcompletion('Pygent expl', 'cmdline'), 'a prompt word completes nothing')
  H.truthy(client.session_id, 'the session the list was asked for')
end)

it('the prompt area completes commands with their help and plugin (completefunc)', function()
  chat.open()
  H.eq("v:lua.require'pygent.commands'.completefunc", vim.bo[chat.bufnr].completefunc)
  local last = vim.api.nvim_buf_line_count(chat.bufnr)
  vim.api.nvim_buf_set_lines(chat.bufnr, last - 1, last, false, { '/s' })
  vim.api.nvim_win_set_cursor(0, { last, 2 })
  H.eq(0, commands.completefunc(1, ''))
  local items = commands.completefunc(0, '/s')
  H.eq(2, #items)
  H.eq('/sessions', items[1].word)
  H.eq('[built-in]', items[1].menu)
  H.eq('/shout', items[2].word)
  H.eq('[testcmds]', items[2].menu)
  H.eq('Shout the text back.', items[2].info)
  H.eq({ '/shout' }, vim.tbl_map(function(i)
    return i.word
  end, commands.completefunc(0, '/sh')))
  -- Before any list (no session yet): the built-in ones at once, the plugin ones asked for later.
  local saved = commands.plugin
  commands.plugin = nil
  H.eq({ '/sessions' }, vim.tbl_map(function(i)
    return i.word
  end, commands.completefunc(0, '/s')))
  H.wait_for(function()
    return commands.plugin ~= nil
  end, 'the list asked for in the background')
  H.eq(#saved, #commands.plugin)
  vim.api.nvim_buf_set_lines(chat.bufnr, last - 1, last, false, { 'not /sh' })
  vim.api.nvim_win_set_cursor(0, { last, 7 })
  H.eq(-3, commands.completefunc(1, ''), 'no completion outside a command word')
  vim.api.nvim_buf_set_lines(chat.bufnr, last - 1, last, false, { '' })
  vim.cmd('wincmd p')
end)

it(':Pygent /shout runs the plugin command on the server and shows its text in the chat, not as an answer', function()
  local before = #H.fake_requests(fake)
  local done = nil
  require('pygent').prompt('/shout hello there', {
    on_done = function(err, text)
      done = { err = err, text = text }
    end,
  })
  H.wait_for(function()
    return done
  end, 'the command to answer', nil, H.chat_text)
  H.eq(nil, done.err)
  H.contains(done.text, '**HELLO THERE** (session ' .. client.session_id)
  H.contains(done.text, 'cwd ' .. root)
  local text = H.chat_text()
  H.contains(text, '### /shout hello there (plugin testcmds)')
  H.contains(text, '**HELLO THERE**')
  H.not_contains(text, '### pygent', 'not shown as the model answer')
  H.eq(before, #H.fake_requests(fake), 'the model was not asked')
  H.eq(0, #errors())
end)

it('a command that fails is a vim.notify ERROR with the plugin and the hint; the chat keeps working', function()
  vim.cmd('Pygent /boom now')
  H.wait_for(function()
    return #errors() > 0
  end, 'the error notification', nil, H.chat_text)
  local err = errors()[1].msg
  H.contains(err, "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom now.")
  H.contains(err, 'The plugin has a bug')
  local _, hints = err:gsub('The plugin has a bug', '')
  H.eq(1, hints, 'the hint is said once')
  H.contains(H.chat_text(), "### /boom now (plugin testcmds)\n\nError: The command /boom of the plugin 'testcmds' failed")
  -- A handler returning something other than text is an error too.
  vim.cmd('Pygent /number')
  H.wait_for(function()
    return #errors() > 1
  end, 'the second error')
  H.contains(errors()[2].msg, '/number')
  -- The chat goes on: a prompt still reaches the model and its answer shows.
  vim.cmd('Pygent a real question')
  H.wait_idle()
  H.contains(H.chat_text(), 'A real answer.')
  H.eq(false, chat.busy)
end)

it('an unknown command is refused with the list of commands and the prompt area keeps the text', function()
  notified = {}
  local before = #H.fake_requests(fake)
  local last = vim.api.nvim_buf_line_count(chat.bufnr)
  vim.api.nvim_buf_set_lines(chat.bufnr, last - 1, last, false, { '/shuot hi' })
  chat.send()
  H.eq(1, #errors())
  H.contains(errors()[1].msg, 'unknown command /shuot. Commands: /help, /new, /sessions, /mode, /model, /boom')
  H.contains(errors()[1].msg, 'type //')
  H.eq('/shuot hi', chat.prompt_text(), 'nothing lost')
  H.eq(before, #H.fake_requests(fake), 'not sent to the model')
  -- The prompt area runs a real command too, and clears on success.
  vim.api.nvim_buf_set_lines(chat.bufnr, chat.separator_row() + 1, -1, false, { '/legacy x y' })
  chat.send()
  H.eq('', chat.prompt_text())
  H.wait_for(function()
    return H.chat_text():find("legacy got 'x y'", 1, true)
  end, 'the /legacy answer', nil, H.chat_text)
end)

it('a command the server does not know (list not asked yet) is its error, and the prompt text comes back', function()
  notified = {}
  local saved = commands.plugin
  commands.plugin = nil -- as before any session: the name is sent to the server as typed
  vim.api.nvim_buf_set_lines(chat.bufnr, chat.separator_row() + 1, -1, false, { '/ghost boo' })
  chat.send()
  H.wait_for(function()
    return #errors() > 0
  end, 'the server error')
  commands.plugin = saved
  H.contains(errors()[1].msg, 'No plugin command /ghost. Plugin commands: /boom, /legacy, /number, /shout')
  H.eq('/ghost boo', chat.prompt_text(), 'the text is back in the prompt area')
  vim.api.nvim_buf_set_lines(chat.bufnr, chat.separator_row() + 1, -1, false, { '' })
end)

it('/help lists every command; /model and /mode go to the session; a path or //word is a prompt', function()
  notified = {}
  vim.cmd('Pygent /help')
  local text = H.chat_text()
  H.contains(text, '### /help')
  H.contains(text, '- `/shout` — Shout the text back. (plugin testcmds)')
  H.contains(text, '- `/mode [MODE]` — set the permission mode')
  vim.cmd('Pygent /model openai/other-model')
  H.wait_for(function()
    return chat.model == 'openai/other-model'
  end, 'the model switch')
  vim.cmd('Pygent /mode plan')
  H.wait_for(function()
    return chat.mode == 'plan'
  end, 'the mode switch')
  vim.cmd('Pygent /mode not a mode')
  H.contains(errors()[1].msg, 'not a permission mode')
  vim.cmd('Pygent //shout is what?')
  H.wait_idle()
  local requests = H.fake_requests(fake)
  local last = requests[#requests].messages
  local user = last[#last]
  local content = type(user.content) == 'table' and user.content[1].text or user.content
  H.contains(content, '/shout is what?')
  H.not_contains(content, '//shout')
end)

it('/new starts a new session and the plugin commands are listed for it', function()
  local old = client.session_id
  commands.plugin = nil
  local done = false
  require('pygent').new_session(function(err)
    done = err or true
  end)
  H.wait_for(function()
    return done
  end, 'the new session')
  H.eq(true, done)
  H.truthy(client.session_id and client.session_id ~= old, 'a different session')
  H.wait_for(function()
    return commands.plugin ~= nil
  end, 'the command list of the new session')
  H.eq(4, #commands.plugin)
end)
