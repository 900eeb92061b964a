-- pygent/session/requestPermission goes through vim.ui.select with the server's option names.
local root = H.project({ ['notes.txt'] = 'hello\n' })
local fake = H.fake_llm({
  { match = 'allowed', times = 1, respond = { tool_calls = { { name = 'shell', arguments = {
    command = 'echo allowed-marker > out.txt' } } } } },
  { match = 'denied', times = 1, respond = { tool_calls = { { name = 'shell', arguments = {
    command = 'echo denied-marker > out2.txt' } } } } },
  { match = 'dismissed', times = 1, respond = { tool_calls = { { name = 'shell', arguments = {
    command = 'echo dismissed-marker > out3.txt' } } } } },
  { match = 'in auto mode', times = 1, respond = { tool_calls = { { name = 'shell', arguments = {
    command = 'echo auto-marker > out4.txt' } } } } },
})
H.setup_plugin(fake, { mode = 'ask' })

local seen = {}
local select = vim.ui.select
local answer = nil
vim.ui.select = function(items, opts, on_choice)
  if opts.kind ~= 'pygent_permission' then
    return select(items, opts, on_choice)
  end
  local names = {}
  for _, item in ipairs(items) do
    table.insert(names, opts.format_item(item))
  end
  table.insert(seen, { prompt = opts.prompt, names = names })
  for _, item in ipairs(items) do
    if item.optionId == answer then
      return on_choice(item, 1)
    end
  end
  on_choice(nil, nil)
end

it('allowing a shell command runs it', function()
  answer = 'allow_once'
  vim.cmd('Pygent run the allowed command')
  H.wait_idle()
  H.eq(1, #seen, 'one permission prompt')
  H.contains(seen[1].prompt, 'echo allowed-marker')
  H.eq({ 'Allow once', 'Allow always', 'Reject once', 'Reject always' }, seen[1].names)
  H.eq('allowed-marker\n', H.read(root .. '/out.txt'))
  H.contains(H.chat_text(), '[done]')
end)

it('denying a shell command does not run it', function()
  answer = 'reject_once'
  vim.cmd('Pygent run the denied command')
  H.wait_idle()
  H.eq(2, #seen, 'a second permission prompt')
  H.eq(nil, vim.uv.fs_stat(root .. '/out2.txt'), 'the command did not run')
  H.contains(H.chat_text(), '[rejected]', 'turned down by the person: rejected, not failed')
end)

it('dismissing the prompt (no choice) answers cancelled and does not run it', function()
  answer = nil
  vim.cmd('Pygent run the dismissed command')
  H.wait_idle()
  H.eq(3, #seen)
  H.eq(nil, vim.uv.fs_stat(root .. '/out3.txt'))
end)

it(':PygentMode auto runs commands without asking; a bad mode is refused clearly', function()
  local errors = {}
  local notify = vim.notify
  vim.notify = function(msg, level)
    if level == vim.log.levels.ERROR then
      table.insert(errors, msg)
    end
  end
  local done = false
  require('pygent').set_mode('yolo', function()
    done = true
  end)
  H.wait_for(function()
    return done
  end, 'the setMode answer')
  vim.notify = notify
  H.contains(errors, 'could not set mode')
  H.contains(errors, 'yolo')
  vim.cmd('PygentMode auto')
  H.wait_for(function()
    return require('pygent.chat').mode == 'auto'
  end, 'mode auto')
  vim.cmd('Pygent run in auto mode')
  H.wait_idle()
  H.eq(3, #seen, 'no new permission prompt')
  H.eq('auto-marker\n', H.read(root .. '/out4.txt'))
end)

it(':PygentModel switches the model used for the next request', function()
  vim.cmd('PygentModel openai/other-fake-model')
  H.wait_for(function()
    return require('pygent.chat').model == 'openai/other-fake-model'
  end, 'the setModel answer')
  H.contains(H.chat_text(), '_model: openai/other-fake-model_', 'the change is shown in the chat')
  vim.cmd('Pygent which model answers')
  H.wait_idle()
  local requests = H.fake_requests(fake)
  H.eq('other-fake-model', requests[#requests].model)
end)
