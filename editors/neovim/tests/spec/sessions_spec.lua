-- :PygentSessions lists this workspace's sessions with vim.ui.select and replays the chosen one.
local root = H.project({})
local fake = H.fake_llm({
  { match = 'pineapple', respond = { text = 'Noted: pineapple.' } },
  { match = 'mango', respond = { text = 'Noted: mango.' } },
  { match = 'which fruit', respond = { text = 'You said pineapple.' } },
  { match = 'still there', respond = { text = 'Still here, same session.' } },
})
H.setup_plugin(fake)
local client = require('pygent.client')
local chat = require('pygent.chat')

local picked = {}
local function pick(predicate)
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    vim.ui.select = select
    H.eq('pygent_session', opts.kind)
    local labels = {}
    for _, item in ipairs(items) do
      table.insert(labels, opts.format_item(item))
    end
    table.insert(picked, labels)
    for i, item in ipairs(items) do
      if predicate(item, labels[i]) then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
end

local first_session = nil

it('a session is replayed into the chat after a server restart', function()
  vim.cmd('Pygent remember the word pineapple')
  H.wait_idle()
  first_session = client.session_id
  H.truthy(first_session, 'a session id')
  client.stop()
  H.wait_for(function()
    return #vim.lsp.get_clients({ name = 'pygent' }) == 0
  end, 'the server to stop')
  chat.reset()
  H.eq('', H.chat_text())
  pick(function(item)
    return item.sessionId == first_session
  end)
  vim.cmd('PygentSessions')
  H.wait_for(function()
    return H.chat_text():find('Noted: pineapple.', 1, true)
  end, 'the replayed answer', nil, H.chat_text)
  H.contains(H.chat_text(), '### You\nremember the word pineapple')
  H.eq(first_session, client.session_id, 'the chat continues the loaded session')
  H.truthy(#picked[1] >= 1, 'the picker listed sessions')
end)

it('a prompt after loading continues the loaded session with its history', function()
  vim.cmd('Pygent which fruit did I name?')
  H.wait_idle()
  H.contains(H.chat_text(), 'You said pineapple.')
  local requests = H.fake_requests(fake)
  H.contains(vim.json.encode(requests[#requests].messages), 'remember the word pineapple', 'history sent to the model')
end)

it('a session started outside Neovim (pygent run) can be picked and replayed', function()
  local env = vim.tbl_extend('force', {}, {
    PYGENT_MODEL = 'openai/fake-model', PYGENT_API_BASE = fake.base_url, PYGENT_API_KEY = 'sk-fake' })
  local res = vim.system({ H.python, '-m', 'pygent', 'run', 'remember the word mango' },
    { env = env, cwd = root, text = true }):wait(60000)
  H.eq(0, res.code, 'pygent run failed: ' .. (res.stderr or ''))
  pick(function(_, label)
    return label:find('mango', 1, true) ~= nil
  end)
  vim.cmd('PygentSessions')
  H.wait_for(function()
    return H.chat_text():find('Noted: mango.', 1, true)
  end, 'the replayed pygent run session', nil, function()
    return H.chat_text() .. '\npicker: ' .. vim.inspect(picked[#picked])
  end)
  H.not_contains(H.chat_text(), 'pineapple', 'the chat shows only the picked session')
end)

it('after the server stops, the next prompt continues the same session without re-rendering it', function()
  local sid = client.session_id
  local before = H.chat_text()
  client.stop()
  H.wait_for(function()
    return #vim.lsp.get_clients({ name = 'pygent' }) == 0
  end, 'the server to stop')
  vim.cmd('Pygent are you still there?')
  H.wait_idle()
  H.eq(sid, client.session_id, 'the same session continues')
  H.contains(H.chat_text(), 'Still here, same session.')
  local _, copies = H.chat_text():gsub('Noted: mango%.', '')
  H.eq(1, copies, 'the reload is not rendered twice')
  H.truthy(vim.startswith(H.chat_text(), before), 'the transcript was kept')
  local requests = H.fake_requests(fake)
  H.contains(vim.json.encode(requests[#requests].messages), 'remember the word mango', 'history reaches the model')
end)
