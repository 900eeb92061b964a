-- The shared recorded turn (tests/fixtures/recorded_turn.json, one real turn of `pygent serve`) replayed
-- through the plugin's handlers: every update kind in it is shown, and its edit reviews go through the
-- review UI against a project holding the recorded files (accepted, then rejected as recorded).
local this = debug.getinfo(1, 'S').source:sub(2)
local repo = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fn.fnamemodify(this, ':p'))))))
local fixture_path = repo .. '/tests/fixtures/recorded_turn.json'
local raw = H.read(fixture_path)
local fixture = vim.json.decode(raw)
local root = H.project(fixture.files)
-- The recording's paths are under /workspace: point them at this project.
local fixture_here = vim.json.decode((raw:gsub('file://' .. vim.pesc(fixture.workspaceRoot), function()
  return vim.uri_from_fname(root)
end):gsub('"' .. vim.pesc(fixture.workspaceRoot) .. '/', function()
  return '"' .. root .. '/'
end)), { luanil = { object = true } }) -- as vim.lsp.rpc decodes messages

local client = require('pygent.client')
local chat = require('pygent.chat')
local review = require('pygent.review')

local function separator()
  return vim.api.nvim_buf_get_lines(chat.bufnr, chat.separator_row(), chat.separator_row() + 1, false)[1]
end

--- What each update kind must leave on screen, checked right after that update is replayed.
local CHECKS = {
  agent_message_chunk = function(u)
    H.contains(H.chat_text(), u.content.text)
  end,
  agent_thought_chunk = function(u)
    H.contains(H.chat_text(), '> ' .. vim.split(u.content.text, '\n')[1])
  end,
  user_message_chunk = function(u)
    H.contains(H.chat_text(), u.content.text)
  end,
  tool_call = function(u)
    H.contains(H.chat_text(), chat.TOOL_PREFIX .. u.title .. ' [')
  end,
  tool_call_update = function(u)
    local status = u.status
    if vim.tbl_get(u, '_meta', 'pygent', 'outcome') == 'rejected' then
      status = 'rejected'
    end
    if status then
      local shown = ({ pending = 'pending', in_progress = 'running', completed = 'done' })[status] or status
      H.truthy(H.chat_text():find(' [' .. shown .. ']', 1, true), ('tool %s shows [%s]:\n%s'):format(u.toolCallId,
        shown, H.chat_text()))
    end
  end,
  plan = function(u)
    for _, entry in ipairs(u.entries) do
      H.contains(H.chat_text(), entry.content)
    end
  end,
  current_mode_update = function(u)
    H.contains(separator(), 'mode ' .. chat.mode_name(u.currentModeId))
    H.contains(H.chat_text(), '_mode: ' .. chat.mode_name(u.currentModeId) .. '_')
  end,
  usage_update = function(u)
    H.contains(separator(), chat.format_usage(u._meta.pygent.usage))
  end,
  pygent_notice = function(u)
    H.contains(H.chat_text(), u.message)
  end,
}

it('the recorded turn replays: every update kind in it is shown, the reviews apply and reject as recorded', function()
  chat.reset()
  chat.open({ focus = false })
  local answers = {} ---@type table<any, table> client answers by request id
  for _, entry in ipairs(fixture_here.messages) do
    if entry.from == 'client' and entry.message.result ~= nil then
      answers[entry.message.id] = entry.message.result
    end
  end
  local requests = {} ---@type table<any, string> client request id -> method
  local seen = {} ---@type table<string, integer>
  for _, entry in ipairs(fixture_here.messages) do
    local msg = entry.message
    if entry.from == 'client' then
      if msg.method then
        requests[msg.id] = msg.method
      end
    elseif msg.method == 'pygent/session/update' then
      local kind = msg.params.update.sessionUpdate
      client.session_id = msg.params.sessionId
      chat.on_update(msg.params)
      local check = CHECKS[kind]
      H.truthy(check, ('the recording has an update kind %q the plugin is not tested to show'):format(kind))
      check(msg.params.update)
      seen[kind] = (seen[kind] or 0) + 1
    elseif msg.method == 'workspace/applyEdit' then
      local answer = answers[msg.id]
      local result = nil
      coroutine.wrap(function()
        result = review.on_apply_edit(msg.params, {})
      end)()
      H.wait_for(function()
        return #review.active > 0
      end, 'the review of ' .. msg.params.label)
      local r = review.active[#review.active]
      for i, file in ipairs(msg.params._meta.pygent.files) do
        H.eq(vim.split(file.newText, '\n', { trimempty = true }), r.docs[i].proposed, 'the review shows _meta newText')
      end
      if answer.applied then
        review.accept(r)
      else
        review.reject(r, answer.failureReason)
      end
      H.wait_for(function()
        return result
      end, 'the applyEdit answer')
      H.eq(answer, result, 'the plugin answers as the recorded client did')
      for _, file in ipairs(msg.params._meta.pygent.files) do
        local path = vim.uri_to_fname(file.uri)
        if answer.applied then
          H.eq(file.newText, H.read(path), 'the accepted edit is on disk')
        else
          H.eq(nil, vim.uv.fs_stat(path), 'the rejected new file was not created')
        end
      end
    elseif msg.method == 'pygent/session/requestPermission' then
      chat.note_permission(msg.params)
      H.contains(H.chat_text(), 'pygent asks permission: ' .. msg.params.toolCall.title)
    elseif msg.method == nil and requests[msg.id] == 'pygent/session/new' then
      client.take_modes(msg.result.modes)
      H.eq(#msg.result.modes.availableModes, #client.modes)
    elseif msg.method == nil and requests[msg.id] == 'pygent/session/prompt' then
      chat.on_turn_done(nil, msg.result)
      H.contains(separator(), chat.format_usage(msg.result.usage))
    end
  end
  for _, kind in ipairs({ 'agent_message_chunk', 'agent_thought_chunk', 'tool_call', 'tool_call_update', 'plan',
    'current_mode_update', 'usage_update', 'pygent_notice' }) do
    H.truthy(seen[kind], 'the recording has a ' .. kind .. ' (else this spec proves less than it says)')
  end
  local text = H.chat_text()
  H.contains(text, '▸ Edit util.py [done]')
  H.contains(text, '▸ Create NOTES.md [rejected]')
  H.contains(text, '▸ Run `rm -f build.log` [rejected]')
  H.contains(text, '- [~] Add a docstring to add()')
  H.contains(text, '_Warning: rate limited')
  client.session_id = nil
end)
