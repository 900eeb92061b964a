-- Plugin internals without a server: config, context blocks, text-edit application, chat rendering.
local root = H.project({ ['a.py'] = 'x = 1\ny = 2\nz = 3\n' })
local config = require('pygent.config')
local review = require('pygent.review')
local chat = require('pygent.chat')

it('setup() merges options, lists replace, and bad options fall back with a warning', function()
  local notes = {}
  local notify = vim.notify
  vim.notify = function(msg)
    table.insert(notes, msg)
  end
  local opts = require('pygent.config').setup({ cmd = { 'my-pygent' }, mode = 'not a mode!',
    keymaps = { chat = { send = '<C-s>' } } })
  vim.notify = notify
  H.eq({ 'my-pygent' }, opts.cmd, 'a list replaces the default, not merged by index')
  H.eq(nil, opts.mode, 'a malformed mode falls back to the default')
  H.eq('<C-s>', opts.keymaps.chat.send)
  H.eq('q', opts.keymaps.chat.close, 'other keymaps keep their defaults')
  H.contains(notes, 'mode must be a mode id such as "ask"')
  -- Which ids exist is the server's business (it warns about an unknown one): no list here.
  H.eq('yolo', require('pygent.config').setup({ mode = 'yolo' }).mode)
  config.setup({})
  H.eq({ 'pygent', 'serve' }, config.options.cmd)
end)

it('context: the buffer is a resource_link, a range adds a resource with the lines', function()
  vim.cmd.edit(root .. '/a.py')
  local blocks = require('pygent').context_blocks(0, { 2, 3 })
  H.eq('resource_link', blocks[1].type)
  H.eq(vim.uri_from_fname(root .. '/a.py'), blocks[1].uri)
  H.eq('a.py', blocks[1].name)
  H.eq('resource', blocks[2].type)
  H.eq('y = 2\nz = 3\n', blocks[2].resource.text)
  H.eq(vim.uri_from_fname(root .. '/a.py') .. '#L2-L3', blocks[2].resource.uri)
  H.eq({}, require('pygent').context_blocks(vim.api.nvim_create_buf(false, true)), 'no context from a scratch buffer')
end)

it("a review shows the server's own before/after texts (_meta.pygent.files) and keeps the operations", function()
  local uri = vim.uri_from_fname(root .. '/a.py')
  local new_uri = vim.uri_from_fname(root .. '/n.py')
  -- The WorkspaceEdit's range says line 9: re-applying it would give a different text. The
  -- texts in _meta are what the server computed, so they are what the review must show.
  local edit = { documentChanges = {
    { kind = 'create', uri = new_uri },
    { textDocument = { uri = new_uri, version = vim.NIL }, edits = {} },
    { textDocument = { uri = uri, version = 1 }, edits = {
      { range = { start = { line = 9, character = 0 }, ['end'] = { line = 9, character = 0 } }, newText = 'BOGUS' } } },
    { kind = 'delete', uri = vim.uri_from_fname(root .. '/gone.py') },
    { kind = 'rename', oldUri = vim.uri_from_fname(root .. '/old.py'), newUri = vim.uri_from_fname(root .. '/moved.py') },
  } }
  local params = { label = 'Edit a.py', edit = edit, _meta = { pygent = { toolCallId = 'call_9', files = {
    { uri = new_uri, oldText = vim.NIL, newText = 'N = 1\n' },
    { uri = uri, oldText = 'x = 1\r\ny = 2\n', newText = 'x = 1\ny = 200\n' },
    { uri = vim.uri_from_fname(root .. '/gone.py'), oldText = 'G = 1\n', newText = vim.NIL },
    { uri = vim.uri_from_fname(root .. '/moved.py'), oldUri = vim.uri_from_fname(root .. '/old.py'),
      oldText = 'M = 1\n', newText = 'M = 1\n' },
    { uri = uri, oldText = 'x = 1\ny = 200\n', newText = 'x = 1\ny = 300\n' },
  } } } }
  local docs, ops = review.prepare(params, edit)
  H.eq(2, #docs, 'a deleted or merely moved file has no text diff: listed as an operation only')
  H.eq({}, docs[1].current)
  H.eq({ 'N = 1' }, docs[1].proposed)
  H.eq({ 'x = 1', 'y = 2' }, docs[2].current, 'CRLF is shown as lines')
  H.eq({ 'x = 1', 'y = 300' }, docs[2].proposed, 'two changes of one file: first before, last after')
  H.eq('x = 1\ny = 300\n', docs[2].proposed_text)
  H.eq({ 'create n.py', 'delete gone.py', 'rename old.py -> moved.py' }, vim.tbl_map(review.describe_op, ops))
  local ok, err = pcall(review.prepare, { _meta = { pygent = { files = { { oldText = 'x' } } } } }, edit)
  H.eq(false, ok)
  H.contains(err, '_meta.pygent.files[1] has no uri')
end)

it('an edit without (or with a malformed) _meta.pygent.files is refused with a reason and nothing is applied', function()
  local before = H.read(root .. '/a.py')
  local edit = { changes = { [vim.uri_from_fname(root .. '/a.py')] = {
    { range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 1 } }, newText = 'w' } } } }
  local result = review.on_apply_edit({ edit = edit, _meta = { pygent = { files = { { newText = 'w = 1\n' } } } } }, {})
  H.eq(false, result.applied)
  H.contains(result.failureReason, 'could not read the edit')
  H.contains(result.failureReason, 'has no uri')
  result = review.on_apply_edit({ edit = edit }, {})
  H.eq(false, result.applied)
  H.contains(result.failureReason, 'no _meta.pygent.files')
  H.contains(result.failureReason, 'update it')
  H.eq(before, H.read(root .. '/a.py'), 'the file is untouched')
  H.eq(0, #review.active, 'no review opened')
end)

it('a review closed without a decision is a rejection with a reason', function()
  local decision = nil
  local docs = review.prepare({ _meta = { pygent = { files = {
    { uri = vim.uri_from_fname(root .. '/a.py'), oldText = 'x = 1\n', newText = 'w = 1\n' } } } } }, {})
  review.open(docs, {}, 'test', function(d)
    decision = d
  end)
  vim.cmd('tabclose')
  H.wait_for(function()
    return decision
  end, 'the decision')
  H.eq(false, decision.accept)
  H.contains(decision.reason, 'closed the review')
  H.eq(0, #review.active)
end)

it('the chat renders recorded updates: streamed text, a tool line with folded details, a plan', function()
  local client = require('pygent.client')
  client.session_id = 'S1'
  chat.reset()
  chat.open({ focus = false })
  local function update(u)
    chat.on_update({ sessionId = 'S1', update = u })
  end
  update({ sessionUpdate = 'agent_thought_chunk', content = { type = 'text', text = 'Thinking about\nthe request.' } })
  update({ sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = "I'll add " } })
  update({ sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = 'the docstring.\nSecond line.' } })
  update({ sessionUpdate = 'tool_call', toolCallId = 'c1', title = 'Edit util.py', kind = 'edit', status = 'pending' })
  update({ sessionUpdate = 'tool_call_update', toolCallId = 'c1', status = 'in_progress', content = {
    { type = 'diff', path = '/p/util.py', oldText = 'a\nb\n', newText = 'a\nB\n' } } })
  update({ sessionUpdate = 'tool_call_update', toolCallId = 'c1', status = 'completed' })
  update({ sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = 'Done.' } })
  update({ sessionUpdate = 'plan', entries = { { content = 'write tests', status = 'completed', priority = 'high' } } })
  update({ sessionUpdate = 'tool_call', toolCallId = 'c2', title = 'Edit calc.py', kind = 'edit', status = 'pending' })
  update({ sessionUpdate = 'tool_call_update', toolCallId = 'c2', status = 'failed',
    _meta = { pygent = { outcome = 'rejected' } } })
  update({ sessionUpdate = 'tool_call', toolCallId = 'c3', title = 'Run `false`', kind = 'execute', status = 'pending' })
  update({ sessionUpdate = 'tool_call_update', toolCallId = 'c3', status = 'failed' })
  update({ sessionUpdate = 'pygent_notice', level = 'warning', message = 'rate limited, retrying in 4 s' })
  update({ sessionUpdate = 'pygent_notice', level = 'info', message = 'context compacted' })
  update({ sessionUpdate = 'usage_update', _meta = { pygent = { usage = { inputTokens = 5230, outputTokens = 210,
    totalTokens = 5440, costUsd = 0.0123 } } } })
  chat.mode = 'ask'
  update({ sessionUpdate = 'current_mode_update', currentModeId = 'plan' })
  update({ sessionUpdate = 'some_future_kind' })
  update({ sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = 'ignored' } }) -- same session: shown
  chat.on_update({ sessionId = 'OTHER', update = { sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = 'FOREIGN' } } })
  local lines = chat.transcript()
  local text = table.concat(lines, '\n')
  H.contains(text, "### pygent\n> Thinking about\n> the request.\n\nI'll add the docstring.\nSecond line.")
  H.contains(text, '▸ Edit util.py [done]')
  H.contains(text, '  │ -b\n  │ +B')
  H.contains(text, '- [x] write tests')
  H.contains(text, '▸ Edit calc.py [rejected]', 'a discarded edit is rejected, not failed')
  H.contains(text, '▸ Run `false` [failed]', 'a real failure stays failed')
  H.contains(text, '_Warning: rate limited, retrying in 4 s_')
  H.contains(text, '_context compacted_')
  H.contains(text, '_mode: plan_')
  H.contains(text, '_(update some_future_kind)_', 'an unknown kind is shown, not dropped')
  local sep = vim.api.nvim_buf_get_lines(chat.bufnr, chat.separator_row(), chat.separator_row() + 1, false)[1]
  H.contains(sep, 'mode plan')
  H.contains(sep, 'turn 5.4k tokens · $0.0123', 'usage is shown on the separator line')
  local rejected_hl = nil
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(chat.bufnr, -1, 0, -1, { details = true })) do
    local line = vim.api.nvim_buf_get_lines(chat.bufnr, mark[2], mark[2] + 1, false)[1]
    if line and line:find('Edit calc.py', 1, true) and mark[4].hl_group then
      rejected_hl = mark[4].hl_group
    end
  end
  H.eq('PygentToolRejected', rejected_hl, 'a rejected edit has its own (neutral) highlight')
  H.not_contains(text, 'FOREIGN', 'updates of another session are not shown')
  -- The tool line and its details form one fold, closed by default.
  local win = chat.window()
  local tool_lnum = nil
  for i, l in ipairs(lines) do
    if l:find('Edit util.py', 1, true) then
      tool_lnum = i
    end
  end
  vim.api.nvim_win_call(win, function()
    H.eq(tool_lnum, vim.fn.foldclosed(tool_lnum + 1), 'details are folded under the tool line')
  end)
  client.session_id = nil
end)

it('gf and gF in the chat open the named workspace file in the editing window, gF at the line', function()
  H.write(root .. '/src/app.py', 'a = 1\nb = 2\nc = 3\nd = 4\n')
  H.write(root .. '/pkg/deep/setup.sh', 'echo hi\n')
  local client = require('pygent.client')
  client.root_dir = root
  client.session_id = 'S1'
  chat.reset()
  vim.cmd('silent! only')
  vim.cmd.edit(root .. '/a.py')
  local editor_win = vim.api.nvim_get_current_win()
  local win = chat.open()
  chat.on_update({ sessionId = 'S1', update = { sessionUpdate = 'agent_message_chunk', content = { type = 'text',
    text = 'See src/app.py:3 and setup.sh, and `b/src/app.py` in the diff.' } } })
  local function put_cursor_on(needle)
    vim.api.nvim_set_current_win(win)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(chat.bufnr, 0, -1, false)) do
      local col = l:find(needle, 1, true)
      if col then
        vim.api.nvim_win_set_cursor(win, { i, col - 1 })
        return
      end
    end
    error('no line with ' .. needle)
  end
  put_cursor_on('src/app.py:3')
  vim.api.nvim_feedkeys('gF', 'mx', false)
  H.eq(editor_win, vim.api.nvim_get_current_win(), 'the file opens in the editing window, not the chat')
  H.eq(root .. '/src/app.py', vim.api.nvim_buf_get_name(0))
  H.eq(3, vim.api.nvim_win_get_cursor(0)[1], 'gF goes to the line')
  H.eq(chat.bufnr, vim.api.nvim_win_get_buf(win), 'the chat window keeps the chat')
  put_cursor_on('setup.sh')
  vim.api.nvim_feedkeys('gf', 'mx', false)
  H.eq(root .. '/pkg/deep/setup.sh', vim.api.nvim_buf_get_name(0), "a bare name is found below the root ('path')")
  put_cursor_on('b/src/app.py')
  vim.api.nvim_feedkeys('gf', 'mx', false)
  H.eq(root .. '/src/app.py', vim.api.nvim_buf_get_name(0), "git's b/ prefix is stripped ('includeexpr')")
  -- Plain Vim commands use the same options: <C-w>f splits to the file.
  put_cursor_on('setup.sh')
  vim.api.nvim_feedkeys(vim.keycode('<C-w>f'), 'mx', false)
  H.eq(root .. '/pkg/deep/setup.sh', vim.api.nvim_buf_get_name(0))
  vim.cmd('close')
  H.eq(3, chat.line_after('x src/app.py:3 y', 'src/app.py', 4))
  H.eq(12, chat.line_after('main.rs(12)', 'main.rs', 1))
  H.eq(nil, chat.line_after('README.md has no line', 'README.md', 1))
  local warnings = {}
  local notify = vim.notify
  vim.notify = function(msg)
    table.insert(warnings, msg)
  end
  chat.on_update({ sessionId = 'S1', update = { sessionUpdate = 'agent_message_chunk', content = { type = 'text',
    text = ' Also missing_file.py.' } } })
  put_cursor_on('missing_file.py')
  local opened = chat.goto_file(false)
  vim.notify = notify
  H.eq(nil, opened)
  H.contains(warnings, 'missing_file.py is not a file under ' .. root)
  H.eq(chat.bufnr, vim.api.nvim_get_current_buf(), 'nothing opened for a missing file')
  client.session_id = nil
end)

it(':help pygent has tags for every command and section', function()
  local dir = vim.fn.tempname() .. '-doc'
  vim.fn.mkdir(dir, 'p')
  local src = vim.api.nvim_get_runtime_file('doc/pygent.txt', false)[1]
  H.truthy(src, 'doc/pygent.txt is on the runtimepath')
  H.write(dir .. '/pygent.txt', H.read(src))
  vim.cmd.helptags(vim.fn.fnameescape(dir))
  local tags = H.read(dir .. '/tags')
  for name in pairs(vim.api.nvim_get_commands({})) do
    if name:match('^Pygent') then
      H.contains(tags, ':' .. name .. '\t', 'help tag for :' .. name)
    end
  end
  for _, tag in ipairs({ 'pygent-config', 'pygent-review', 'pygent-permissions', 'pygent-health', 'pygent-bare-lsp' }) do
    H.contains(tags, tag .. '\t')
  end
end)

it(':Pygent with a missing executable says what to do and keeps the prompt', function()
  local notes = {}
  local notify = vim.notify
  vim.notify = function(msg)
    table.insert(notes, msg)
  end
  require('pygent').setup({ cmd = { 'no-such-pygent-binary', 'serve' } })
  vim.cmd('Pygent hello there')
  vim.notify = notify
  H.eq(false, chat.busy, 'the chat is not left busy')
  local text = H.chat_text()
  H.contains(text, '### You\nhello there', 'the prompt stays in the transcript')
  H.contains(text, '"no-such-pygent-binary" is not an executable')
  H.contains(text, ':checkhealth pygent')
  H.contains(notes, 'no-such-pygent-binary')
  config.setup({})
end)
