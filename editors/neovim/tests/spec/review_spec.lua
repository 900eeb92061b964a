-- workspace/applyEdit opens a diff-mode review: accept applies (buffer, file, undo), reject tells the model why.
local root = H.project({
  ['util.py'] = 'def add(a, b):\n    return a + b\n',
  ['calc.py'] = 'def mul(a, b):\n    return a * b\n',
  ['draft.py'] = 'A = 1\nB = 2\n',
  ['stale.py'] = 'S = 1\n',
  ['old_name.py'] = 'OLD = True\n',
})
local fake = H.fake_llm({
  { match = 'add a docstring', times = 1, respond = { tool_calls = { { name = 'edit_file', arguments = {
    path = 'util.py', old_string = 'def add(a, b):\n', new_string = 'def add(a, b):\n    """Add two numbers."""\n' } } } } },
  { match = 'rename mul', times = 1, respond = { tool_calls = { { name = 'edit_file', arguments = {
    path = 'calc.py', old_string = 'def mul(', new_string = 'def times(' } } } } },
  { match = 'drop the change', times = 1, respond = { tool_calls = { { name = 'edit_file', arguments = {
    path = 'calc.py', old_string = 'return a * b', new_string = 'return b * a' } } } } },
  { match = 'new module', times = 1, respond = { tool_calls = { { name = 'create_file', arguments = {
    path = 'pkg/new.py', content = 'X = 1\nY = 2\n' } } } } },
  { match = 'edit the draft', times = 1, respond = { tool_calls = { { name = 'edit_file', arguments = {
    path = 'draft.py', old_string = 'B = 2', new_string = 'B = 20' } } } } },
  { match = 'edit the stale file', times = 1, respond = { tool_calls = { { name = 'edit_file', arguments = {
    path = 'stale.py', old_string = 'S = 1', new_string = 'S = 100' } } } } },
  { match = 'rename old_name', times = 1, respond = { tool_calls = { { name = 'move_file', arguments = {
    source = 'old_name.py', destination = 'new_name.py' } } } } },
  { after_tool = 'Google style', respond = { text = 'Understood: Google style it is.' } },
})
H.setup_plugin(fake)
local review = require('pygent.review')

after_each(function()
  for _, r in ipairs(vim.deepcopy(review.active)) do
    review.reject(r, 'test cleanup')
  end
  H.wait_idle()
end)

local function wait_review()
  H.wait_for(function()
    return #review.active > 0
  end, 'a review to open', nil, H.chat_text)
  return review.active[#review.active]
end

local function press(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), 'mx', false)
end

local function tool_results(requests)
  local out = {}
  for _, m in ipairs(requests[#requests].messages) do
    if m.role == 'tool' then
      table.insert(out, type(m.content) == 'string' and m.content or vim.json.encode(m.content))
    end
  end
  return table.concat(out, '\n')
end

it('an accepted edit changes the open buffer and the file, and undo reverts it', function()
  vim.cmd.edit(root .. '/util.py')
  local buf = vim.api.nvim_get_current_buf()
  vim.cmd('Pygent add a docstring to add')
  local r = wait_review()
  H.contains(H.chat_text(), '▸ Edit util.py [in review]', 'the tool line says the edit waits for the review')
  -- The review tab: current vs proposed, both in diff mode.
  local wins = vim.api.nvim_tabpage_list_wins(0)
  H.eq(2, #wins, 'two windows in the review tab')
  H.truthy(vim.wo[wins[1]].diff and vim.wo[wins[2]].diff, 'both windows are in diff mode')
  H.eq({ 'def add(a, b):', '    return a + b' }, vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(wins[1]), 0, -1, false))
  H.eq({ 'def add(a, b):', '    """Add two numbers."""', '    return a + b' },
    vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(wins[2]), 0, -1, false))
  H.eq('python', vim.bo[vim.api.nvim_win_get_buf(wins[2])].filetype)
  press('ga')
  H.truthy(r.done, 'ga finished the review')
  H.wait_idle()
  local expected = 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n'
  H.eq(vim.split(expected, '\n', { trimempty = true }), vim.api.nvim_buf_get_lines(buf, 0, -1, false), 'buffer')
  H.eq(expected, H.read(root .. '/util.py'), 'file on disk')
  H.eq(false, vim.bo[buf].modified, 'the buffer was written')
  H.contains(H.chat_text(), '[done]')
  vim.api.nvim_buf_call(buf, function()
    vim.cmd('silent undo')
  end)
  H.eq({ 'def add(a, b):', '    return a + b' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false), 'undo reverts the edit')
end)

it('an edit rejected with a reason leaves the file alone and the model is told why', function()
  vim.cmd.edit(root .. '/calc.py')
  local buf = vim.api.nvim_get_current_buf()
  vim.cmd('Pygent rename mul to times')
  wait_review()
  local input = vim.ui.input
  vim.ui.input = function(opts, on_confirm)
    H.contains(opts.prompt, 'reject')
    on_confirm('use Google style names')
  end
  local ok, err = pcall(press, 'gR')
  vim.ui.input = input
  assert(ok, err)
  H.wait_idle()
  H.eq('def mul(a, b):\n    return a * b\n', H.read(root .. '/calc.py'), 'file unchanged')
  H.eq({ 'def mul(a, b):', '    return a * b' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false), 'buffer unchanged')
  H.contains(H.chat_text(), '[rejected]', 'turned down by the person: rejected, not failed')
  H.contains(tool_results(H.fake_requests(fake)), 'use Google style names', 'the reason reaches the model')
  H.contains(H.chat_text(), 'Understood: Google style it is.')
end)

it('gr rejects without a reason', function()
  vim.cmd('Pygent drop the change please')
  wait_review()
  press('gr')
  H.wait_idle()
  H.eq('def mul(a, b):\n    return a * b\n', H.read(root .. '/calc.py'))
  H.contains(tool_results(H.fake_requests(fake)), 'reject')
end)

it('a new file is listed for confirmation and created with exactly its content', function()
  vim.cmd('Pygent add a new module')
  local r = wait_review()
  H.eq(1, #r.ops)
  H.eq('create', r.ops[1].kind)
  H.contains(review.describe_op(r.ops[1]), 'pkg/new.py')
  local listing = vim.api.nvim_buf_get_lines(vim.api.nvim_get_current_buf(), 0, -1, false)
  H.contains(listing, 'create pkg/new.py', 'the summary tab lists the creation')
  press('ga')
  H.wait_idle()
  H.eq('X = 1\nY = 2\n', H.read(root .. '/pkg/new.py'))
end)

it('an edit of a buffer with unsaved changes keeps them (the server sees the buffer text)', function()
  vim.cmd.edit(root .. '/draft.py')
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, 1, false, { 'A = 1  # typed, not saved' })
  vim.cmd('Pygent edit the draft')
  local r = wait_review()
  H.eq({ 'A = 1  # typed, not saved', 'B = 2' }, r.docs[1].current, 'the review starts from the buffer')
  H.eq({ 'A = 1  # typed, not saved', 'B = 20' }, r.docs[1].proposed)
  press('ga')
  H.wait_idle()
  H.eq({ 'A = 1  # typed, not saved', 'B = 20' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
  H.eq('A = 1  # typed, not saved\nB = 20\n', H.read(root .. '/draft.py'))
end)

it('a buffer changed during the review is not overwritten: the edit fails with a reason', function()
  vim.cmd.edit(root .. '/stale.py')
  local buf = vim.api.nvim_get_current_buf()
  local notify = vim.notify
  vim.notify = function() end
  vim.cmd('Pygent edit the stale file')
  local r = wait_review()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'S = 2  # changed meanwhile' })
  review.accept(r)
  H.wait_idle()
  vim.notify = notify
  H.eq({ 'S = 2  # changed meanwhile' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false), 'the newer text stays')
  H.eq('S = 1\n', H.read(root .. '/stale.py'))
  H.contains(tool_results(H.fake_requests(fake)), 'changed in the editor')
  vim.cmd('silent! bwipeout!')
end)

it('a rename is listed, then moves the file and its open buffer', function()
  vim.cmd.edit(root .. '/old_name.py')
  local buf = vim.api.nvim_get_current_buf()
  vim.cmd('Pygent rename old_name to new_name')
  local r = wait_review()
  H.eq({ 'rename old_name.py -> new_name.py' }, vim.tbl_map(review.describe_op, r.ops))
  press('ga')
  H.wait_idle()
  H.eq(nil, vim.uv.fs_stat(root .. '/old_name.py'))
  H.eq('OLD = True\n', H.read(root .. '/new_name.py'))
  H.eq(root .. '/new_name.py', vim.api.nvim_buf_get_name(buf), 'the buffer follows the file')
end)
