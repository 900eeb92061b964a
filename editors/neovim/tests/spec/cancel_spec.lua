-- :PygentCancel stops a running turn: the prompt answers stopReason "cancelled" and the stream stops.
H.project({})
local long = string.rep('slow words keep coming ', 40) .. 'THE-END'
local fake = H.fake_llm({
  { match = 'slow', respond = { text = long, delay = 0.05 } },
  { match = 'after', respond = { text = 'Fresh answer after the cancel.' } },
  { match = 'keyboard', respond = { text = long, delay = 0.05 } },
}, { chunk_size = 4 })
H.setup_plugin(fake, { model = 'openai/model-from-setup' })
local chat = require('pygent.chat')

it(':PygentCancel stops the turn mid-stream', function()
  local result = nil
  require('pygent').prompt('a slow answer please', { context = false, on_done = function(err, res)
    result = { err = err, res = res }
  end })
  H.wait_for(function()
    return H.chat_text():find('slow words', 1, true)
  end, 'the first chunks', nil, H.chat_text)
  vim.cmd('PygentCancel')
  H.wait_idle(10000)
  H.truthy(result and result.res, 'the prompt request answered')
  H.eq('cancelled', result.res.stopReason)
  H.not_contains(H.chat_text(), 'THE-END', 'the stream stopped')
  H.contains(H.chat_text(), 'turn ended: cancelled')
end)

it('the session goes on after a cancel', function()
  vim.cmd('Pygent and after that?')
  H.wait_idle()
  local text = H.chat_text()
  H.contains(text, 'Fresh answer after the cancel.')
  -- Whatever the cancelled turn still had in flight would have arrived before this answer.
  local after_cancel = text:sub(text:find('turn ended: cancelled', 1, true))
  H.not_contains(after_cancel, 'slow words', 'nothing of the cancelled turn arrives after the cancel')
  H.eq(false, chat.busy)
  local requests = H.fake_requests(fake)
  H.eq('model-from-setup', requests[#requests].model, 'setup({ model }) reaches the server')
end)

it('<C-c> in the chat cancels too', function()
  local function count()
    return select(2, H.chat_text():gsub('slow words', ''))
  end
  local before = count()
  vim.cmd('Pygent slow again, stopped from the keyboard')
  H.eq('working', require('pygent').status())
  H.wait_for(function()
    return count() > before
  end, 'new chunks', nil, H.chat_text)
  require('pygent').chat()
  vim.api.nvim_feedkeys(vim.keycode('<C-c>'), 'mx', false)
  H.wait_idle(10000)
  H.eq('idle', require('pygent').status())
  local _, cancels = H.chat_text():gsub('turn ended: cancelled', '')
  H.eq(2, cancels, 'two cancelled turns in the transcript')
end)
