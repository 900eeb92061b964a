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
  local opts = require('pygent.config').setup({ cmd = { 'my-pygent' }, mode = 'yolo', keymaps = { chat = { send = '<C-s>' } } })
  vim.notify = notify
  H.eq({ 'my-pygent' }, opts.cmd, 'a list replaces the default, not merged by index')
  H.eq(nil, opts.mode, 'an invalid mode falls back to the default')
  H.eq('<C-s>', opts.keymaps.chat.send)
  H.eq('q', opts.keymaps.chat.close, 'other keymaps keep their defaults')
  H.contains(notes, "mode must be one of ask, auto-edit, plan, auto")
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

it('text edits apply with UTF-16 positions, in any order, at the end of the file', function()
  local text = 'héllo 😀 world\nsecond\n'
  local edits = {
    { range = { start = { line = 0, character = 9 }, ['end'] = { line = 0, character = 14 } }, newText = 'there' },
    { range = { start = { line = 2, character = 0 }, ['end'] = { line = 2, character = 0 } }, newText = 'third\n' },
    { range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 1 } }, newText = 'H' },
  }
  H.eq('Héllo 😀 there\nsecond\nthird\n', review.apply_to_text(text, edits, 'utf-16'))
  H.eq('abc', review.apply_to_text('', { { range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 0 } }, newText = 'abc' } }, 'utf-16'))
end)

it('a WorkspaceEdit is prepared into documents and operations (create, rename, delete)', function()
  local uri = vim.uri_from_fname(root .. '/a.py')
  local new_uri = vim.uri_from_fname(root .. '/b.py')
  local docs, ops = review.prepare({
    documentChanges = {
      { kind = 'create', uri = vim.uri_from_fname(root .. '/c.py') },
      { textDocument = { uri = vim.uri_from_fname(root .. '/c.py'), version = vim.NIL }, edits = {
        { range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 0 } }, newText = 'C = 1\n' } } },
      { textDocument = { uri = uri, version = 1 }, edits = {
        { range = { start = { line = 1, character = 4 }, ['end'] = { line = 1, character = 5 } }, newText = '20', annotationId = 'a' } } },
      { kind = 'rename', oldUri = uri, newUri = new_uri },
      { kind = 'delete', uri = vim.uri_from_fname(root .. '/gone.py') },
    },
    changeAnnotations = { a = { label = 'x', needsConfirmation = true } },
  }, 'utf-16')
  H.eq(2, #docs)
  H.eq({}, docs[1].current)
  H.eq({ 'C = 1' }, docs[1].proposed)
  H.eq({ 'x = 1', 'y = 2', 'z = 3' }, docs[2].current)
  H.eq({ 'x = 1', 'y = 20', 'z = 3' }, docs[2].proposed)
  H.eq({ 'create c.py', 'rename a.py -> b.py', 'delete gone.py' }, vim.tbl_map(review.describe_op, ops))
end)

it('a review closed without a decision is a rejection with a reason', function()
  local decision = nil
  local docs = review.prepare({ changes = { [vim.uri_from_fname(root .. '/a.py')] = {
    { range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 1 } }, newText = 'w' } } } }, 'utf-16')
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
  update({ sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = 'ignored' } }) -- same session: shown
  chat.on_update({ sessionId = 'OTHER', update = { sessionUpdate = 'agent_message_chunk', content = { type = 'text', text = 'FOREIGN' } } })
  local lines = chat.transcript()
  local text = table.concat(lines, '\n')
  H.contains(text, "### pygent\n> Thinking about\n> the request.\n\nI'll add the docstring.\nSecond line.")
  H.contains(text, '▸ Edit util.py [done]')
  H.contains(text, '  │ -b\n  │ +B')
  H.contains(text, '- [x] write tests')
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
