-- Modes come from the server: the picker, completion and the separator show its availableModes.
H.project({})
local fake = H.fake_llm({ { match = 'hello', respond = { text = 'Hi.' } } })
H.setup_plugin(fake, { mode = 'yolo' })
local client = require('pygent.client')
local chat = require('pygent.chat')

local function messages()
  return vim.api.nvim_exec2('messages', { output = true }).output
end

it("an unknown mode in setup() is named by the server's warning and the session starts in a valid mode", function()
  H.eq(0, #client.modes, 'no server list before the first session')
  H.eq({ 'ask', 'auto-edit', 'plan', 'auto' }, client.mode_ids(), 'completion falls back before a session exists')
  vim.cmd('Pygent hello')
  H.wait_idle()
  H.contains(H.chat_text(), 'Hi.')
  H.wait_for(function()
    return messages():find('yolo', 1, true)
  end, "the server's warning about the mode", nil, messages)
  H.contains(messages(), "permissionMode 'yolo' is not one of")
  H.eq('ask', chat.mode, 'the session runs in the default mode')
end)

it("the server's modes (with names and descriptions) drive completion, the picker and the separator", function()
  H.eq(client.FALLBACK_MODE_IDS, client.mode_ids(), "the pre-session fallback list matches the server's list")
  for _, m in ipairs(client.modes) do
    H.truthy(type(m.name) == 'string' and m.name ~= '', 'mode ' .. m.id .. ' has a name')
    H.truthy(type(m.description) == 'string' and #m.description > 10, 'mode ' .. m.id .. ' has a description')
  end
  -- The server's list replaces the fallback: prove completion reads it (a server with other modes).
  local saved = client.modes
  client.modes = { { id = 'only-this', name = 'Only' } }
  H.eq({ 'only-this' }, vim.fn.getcompletion('PygentMode ', 'cmdline'))
  client.modes = saved
  local shown = nil
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    shown = { kind = opts.kind, lines = vim.tbl_map(opts.format_item, items) }
    for _, item in ipairs(items) do
      if item.id == 'plan' then
        return on_choice(item, 1)
      end
    end
  end
  vim.cmd('PygentMode')
  H.wait_for(function()
    return chat.mode == 'plan'
  end, 'mode plan')
  vim.ui.select = select
  H.eq('pygent_mode', shown.kind)
  H.eq(4, #shown.lines)
  H.contains(shown.lines[1], '* Ask — Reads run', 'the current mode is marked; names and descriptions shown')
  H.contains(shown.lines[3], 'Plan — Read-only')
  local sep = vim.api.nvim_buf_get_lines(chat.bufnr, chat.separator_row(), chat.separator_row() + 1, false)[1]
  H.contains(sep, 'mode Plan', "the separator shows the server's name of the mode")
end)
