-- A prompt from :Pygent streams into the chat buffer; the buffer and a selection travel as context.
local root = H.project({ ['util.py'] = 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n' })
local fake = H.fake_llm({
  { match = 'explain', respond = { text = 'The function add returns the sum of a and b.', delay = 0.02 } },
  { match = 'selection', respond = { text = 'That is sub.' } },
  { match = 'typed in the chat', respond = { text = 'Answer to the chat prompt.' } },
  { match = 'provoke an auth error', respond = { error = 'auth' } },
}, { chunk_size = 6 })
H.setup_plugin(fake)

local chunks = 0
local chat = require('pygent.chat')
local on_update = chat.on_update
chat.on_update = function(params)
  if params.update and params.update.sessionUpdate == 'agent_message_chunk' then
    chunks = chunks + 1
  end
  return on_update(params)
end

local function last_user_message(requests)
  local messages = requests[#requests].messages
  for i = #messages, 1, -1 do
    if messages[i].role == 'user' then
      local c = messages[i].content
      return type(c) == 'string' and c or vim.json.encode(c)
    end
  end
  return ''
end

it(':Pygent streams the answer into a pygent chat buffer', function()
  vim.cmd.edit(root .. '/util.py')
  local source = vim.api.nvim_get_current_buf()
  vim.cmd('Pygent explain this function')
  H.truthy(chat.busy, 'the chat is busy while the turn runs')
  H.eq(source, vim.api.nvim_get_current_buf(), 'the cursor stays in the source buffer')
  H.wait_idle()
  H.eq('pygent', vim.bo[chat.bufnr].filetype)
  H.truthy(chat.window(), 'the chat window is open')
  local text = H.chat_text()
  H.contains(text, '### You\nexplain this function')
  H.contains(text, 'The function add returns the sum of a and b.')
  H.truthy(chunks > 1, ('the answer arrived in several chunks (got %d)'):format(chunks))
  local msg = last_user_message(H.fake_requests(fake))
  H.contains(msg, 'explain this function')
  H.contains(msg, 'util.py', 'the current buffer travels as a resource_link')
end)

it(':Pygent with a range embeds the selected lines', function()
  vim.cmd.edit(root .. '/util.py')
  vim.cmd('5,6Pygent what does this selection do')
  H.wait_idle()
  H.contains(H.chat_text(), 'That is sub.')
  local msg = last_user_message(H.fake_requests(fake))
  H.contains(msg, 'return a - b', 'the selected text reaches the model')
end)

it('<CR> in the chat sends the prompt area', function()
  require('pygent').chat()
  H.eq(chat.bufnr, vim.api.nvim_get_current_buf())
  local last = vim.api.nvim_buf_line_count(chat.bufnr)
  vim.api.nvim_buf_set_lines(chat.bufnr, last - 1, last, false, { 'a question typed in the chat' })
  vim.api.nvim_win_set_cursor(0, { last, 0 })
  vim.api.nvim_feedkeys(vim.keycode('<CR>'), 'mx', false)
  H.wait_for(function()
    return H.chat_text():find('Answer to the chat prompt.', 1, true)
  end, 'the answer to the chat prompt', nil, H.chat_text)
  H.wait_idle()
  H.eq('', chat.prompt_text(), 'the prompt area is cleared after sending')
  H.contains(H.chat_text(), '### You\na question typed in the chat')
end)

it('$/progress reaches LspProgress and vim.lsp.status()', function()
  local kinds, statuses = {}, {}
  local id = vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(ev)
      if ev.data.client_id == require('pygent.client').client_id then
        table.insert(kinds, ev.data.params.value.kind)
        table.insert(statuses, vim.lsp.status())
      end
    end,
  })
  vim.cmd('Pygent explain this function once more')
  H.wait_idle()
  vim.api.nvim_del_autocmd(id)
  H.eq('begin', kinds[1], 'first progress event')
  H.eq('end', kinds[#kinds], 'last progress event')
  H.contains(statuses[1], 'pygent', 'vim.lsp.status() names the turn')
end)

it('a model error is shown in the chat and the next prompt works', function()
  local notify = vim.notify
  vim.notify = function() end
  vim.cmd('Pygent provoke an auth error')
  H.wait_idle()
  vim.notify = notify
  local text = H.chat_text()
  H.contains(text, '_Error: ')
  H.truthy(text:lower():find('api key', 1, true), 'the error names the API key:\n' .. text)
  vim.cmd('Pygent explain this function again')
  H.wait_idle()
  H.contains(H.chat_text(), 'The function add returns the sum of a and b.')
end)
