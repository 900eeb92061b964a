--- pygent.chat: the chat buffer (filetype `pygent`): a transcript that streams session updates,
--- tool calls as one line each with folded details, and a prompt area below a separator line.
local config = require('pygent.config')

local M = {}

local ns = vim.api.nvim_create_namespace('pygent.chat')

M.SEPARATOR = '──── prompt ────'
M.DETAIL_PREFIX = '  │ '
M.TOOL_PREFIX = '▸ '
local MAX_DETAIL_LINES = 40

---@type integer?
M.bufnr = nil
local sep_mark = nil ---@type integer?
--- toolCallId -> { mark = extmark id, title = string, status = string }
local tools = {} ---@type table<string, { mark: integer, title: string, status: string }>
--- Kind of the last transcript element: 'user' | 'agent' | 'thought' | 'tool' | 'note' | nil.
local last_kind = nil ---@type string?
M.busy = false
--- Session whose replayed updates are not rendered (reloaded after a server restart).
---@type string?
M.muted_session = nil
---@type string?
M.mode = nil
--- Model of the session (set by :PygentModel; nil = the server's default).
---@type string?
M.model = nil
--- Token usage of the running (or last) turn: `usage_update`, then the prompt result's `usage`.
---@type { inputTokens: integer?, outputTokens: integer?, totalTokens: integer?, costUsd: number? }?
M.usage = nil

local STATUS_TEXT = {
  pending = 'pending',
  in_progress = 'running',
  completed = 'done',
  failed = 'failed',
  rejected = 'rejected',
  reviewing = 'in review',
}
local STATUS_HL = {
  pending = 'PygentToolPending',
  in_progress = 'PygentToolRunning',
  completed = 'PygentToolDone',
  failed = 'PygentToolFailed',
  rejected = 'PygentToolRejected',
  reviewing = 'PygentToolRunning',
}

local function valid()
  return M.bufnr ~= nil and vim.api.nvim_buf_is_valid(M.bufnr)
end

--- Display name of mode `id` (the server's `availableModes` name, else the id).
---@param id string
---@return string
function M.mode_name(id)
  for _, m in ipairs(require('pygent.client').modes) do
    if m.id == id and type(m.name) == 'string' then
      return m.name
    end
  end
  return id
end

--- `12.3k tokens · $0.0123` for a usage table (empty when nothing is known).
---@param usage table?
---@return string
function M.format_usage(usage)
  if type(usage) ~= 'table' then
    return ''
  end
  local parts = {}
  local total = tonumber(usage.totalTokens) or ((tonumber(usage.inputTokens) or 0) + (tonumber(usage.outputTokens) or 0))
  if total > 0 then
    table.insert(parts, total >= 1000 and ('turn %.1fk tokens'):format(total / 1000) or ('turn %d tokens'):format(total))
  end
  local cost = tonumber(usage.costUsd)
  if cost and cost > 0 then
    table.insert(parts, ('$%.4f'):format(cost))
  end
  return table.concat(parts, ' · ')
end

local function separator_text()
  local keys = config.options.keymaps.chat
  local hint = M.busy and ('working… %s cancels'):format(keys.cancel or ':PygentCancel')
    or ('%s sends'):format(keys.send or ':PygentSend')
  local usage = M.format_usage(M.usage)
  return ('%s %s%s%s ────'):format(M.SEPARATOR, hint, M.mode and (' · mode ' .. M.mode_name(M.mode)) or '',
    usage ~= '' and (' · ' .. usage) or '')
end

--- Row (0-based) of the separator line.
---@return integer
function M.separator_row()
  local pos = vim.api.nvim_buf_get_extmark_by_id(M.bufnr, ns, sep_mark, {})
  return pos[1]
end

local function set_separator()
  local row = M.separator_row()
  vim.api.nvim_buf_set_lines(M.bufnr, row, row + 1, false, { separator_text() })
  sep_mark = vim.api.nvim_buf_set_extmark(M.bufnr, ns, row, 0, { id = sep_mark, hl_group = 'PygentSeparator',
    end_row = row, end_col = #separator_text(), hl_eol = true })
end

local function scroll_to_end()
  local row = M.separator_row()
  for _, win in ipairs(vim.fn.win_findbuf(M.bufnr)) do
    if win ~= vim.api.nvim_get_current_win() then
      pcall(vim.api.nvim_win_set_cursor, win, { math.max(row, 1), 0 })
    end
  end
end

local function setup_keymaps(buf)
  local keys = config.options.keymaps.chat
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set('n', lhs, fn, { buffer = buf, desc = desc, nowait = true })
    end
  end
  map(keys.send, M.send, 'pygent: send the prompt area')
  map(keys.cancel, function()
    require('pygent').cancel()
  end, 'pygent: cancel the running turn')
  map(keys.close, M.close, 'pygent: close the chat window')
  map(keys.open_file, function()
    M.goto_file(false)
  end, 'pygent: open the file named under the cursor in the editing window')
  map(keys.open_file_at_line, function()
    M.goto_file(true)
  end, 'pygent: open the file under the cursor at the line it names (file.py:42)')
end

--- 'includeexpr' of the chat buffer: a name `gf` did not find as written. Strips `file://` and
--- percent-escapes (links to files) and git's `a/` / `b/` prefixes (diff headers).
---@param fname string?
---@return string
function M.includeexpr(fname)
  fname = fname or vim.v.fname
  fname = fname:gsub('^file:/*', '/')
  if fname:find('%%%x%x') then
    fname = fname:gsub('%%(%x%x)', function(hex)
      return string.char(tonumber(hex, 16))
    end)
  end
  local stripped = fname:match('^[ab]/(.+)$')
  if stripped and vim.fn.findfile(stripped) ~= '' then
    return stripped
  end
  return fname
end

--- Point 'path' at the workspace (its root, then anything below it) so `gf`, `gF`, `<C-w>f` and
--- `:find` resolve the file names pygent writes (`src/app.py:42`, `README.md`, tool titles).
---@param buf integer
function M.set_file_options(buf)
  local client = require('pygent.client')
  local root = client.root_dir or client.find_root(0)
  local esc = root:gsub('[, ]', '\\%0')
  vim.bo[buf].path = ('%s,%s/**,,'):format(esc, esc)
  vim.bo[buf].includeexpr = "v:lua.require'pygent.chat'.includeexpr()"
end

--- The editing window to open a file in from the chat: the previous window, else another
--- normal window of the tab, else a new split next to the chat.
---@return integer win
local function editing_window()
  local chat_win = vim.api.nvim_get_current_win()
  local function usable(win)
    return win ~= 0 and vim.api.nvim_win_is_valid(win) and win ~= chat_win
      and vim.api.nvim_win_get_config(win).relative == ''
      and vim.api.nvim_win_get_buf(win) ~= M.bufnr
  end
  local prev = vim.fn.win_getid(vim.fn.winnr('#'))
  if usable(prev) then
    return prev
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if usable(win) then
      return win
    end
  end
  vim.cmd('aboveleft vsplit')
  return vim.api.nvim_get_current_win()
end

--- The line number written after `name` in `text` (`name:42`, `name(42)`, `name, line 42`), for the
--- occurrence of `name` at column `col` (1-based), else the first one.
---@param text string
---@param name string
---@param col integer
---@return integer?
function M.line_after(text, name, col)
  local first, from = nil, 1
  while true do
    local s, e = text:find(name, from, true)
    if not s then
      break
    end
    local rest = text:sub(e + 1)
    local nr = tonumber(rest:match('^:(%d+)') or rest:match('^%((%d+)%)') or rest:match('^,? line (%d+)'))
    if col >= s and col <= e then
      return nr
    end
    if first == nil then
      first = nr or false
    end
    from = e + 1
  end
  return first or nil
end

--- `gf` / `gF` in the chat: open the file named under the cursor (resolved like `gf`, through
--- 'path' and 'includeexpr') in the editing window, at the line it names with `with_line`.
---@param with_line boolean
---@return string? path opened
function M.goto_file(with_line)
  local cfile = vim.fn.expand('<cfile>')
  if cfile == '' then
    vim.notify('pygent: no file name under the cursor', vim.log.levels.WARN)
    return nil
  end
  local found = vim.fn.findfile(cfile)
  if found == '' then
    found = vim.fn.findfile(M.includeexpr(cfile))
  end
  if found == '' then
    local client = require('pygent.client')
    vim.notify(('pygent: %s is not a file under %s'):format(cfile, client.root_dir or vim.fn.getcwd()),
      vim.log.levels.WARN)
    return nil
  end
  local line_nr = with_line and M.line_after(vim.api.nvim_get_current_line(), cfile,
    vim.api.nvim_win_get_cursor(0)[2] + 1) or nil
  local path = vim.fn.fnamemodify(found, ':p')
  vim.api.nvim_set_current_win(editing_window())
  vim.cmd.edit(vim.fn.fnameescape(path))
  if line_nr then
    pcall(vim.api.nvim_win_set_cursor, 0, { math.min(line_nr, vim.api.nvim_buf_line_count(0)), 0 })
    vim.cmd('normal! ^')
  end
  return path
end

--- The chat buffer, created on first use.
---@return integer bufnr
function M.ensure_buffer()
  if valid() then
    return M.bufnr --[[@as integer]]
  end
  local buf = vim.api.nvim_create_buf(false, true)
  M.bufnr = buf
  vim.api.nvim_buf_set_name(buf, 'pygent://chat')
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { M.SEPARATOR, '' })
  sep_mark = vim.api.nvim_buf_set_extmark(buf, ns, 0, 0, {})
  set_separator()
  vim.bo[buf].filetype = 'pygent'
  M.set_file_options(buf)
  setup_keymaps(buf)
  tools, last_kind = {}, nil
  -- <C-x><C-u> after a `/` at the start of the prompt completes the slash commands.
  vim.bo[buf].completefunc = "v:lua.require'pygent.commands'.completefunc"
  return buf
end

--- Fold expression of the chat window: a tool line and its detail lines form one closed fold.
---@param lnum integer?
---@return string
function M.foldexpr(lnum)
  lnum = lnum or vim.v.lnum
  local line = vim.fn.getline(lnum)
  if vim.startswith(line, M.DETAIL_PREFIX) then
    return '1'
  end
  if vim.startswith(line, M.TOOL_PREFIX) and vim.startswith(vim.fn.getline(lnum + 1), M.DETAIL_PREFIX) then
    return '>1'
  end
  return '0'
end

local function setup_window(win)
  local wo = vim.wo[win][0]
  wo.wrap = true
  wo.linebreak = true
  wo.number = false
  wo.relativenumber = false
  wo.signcolumn = 'no'
  wo.foldmethod = 'expr'
  wo.foldexpr = "v:lua.require'pygent.chat'.foldexpr()"
  wo.foldtext = ''
  wo.foldlevel = 0
  wo.foldenable = true
  wo.fillchars = 'fold: '
  wo.winfixwidth = true
end

--- Window showing the chat in the current tab, if any.
---@return integer?
function M.window()
  if not valid() then
    return nil
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_buf(win) == M.bufnr then
      return win
    end
  end
  return nil
end

--- Open (or focus) the chat window; `opts.focus = false` keeps the cursor where it is.
---@param opts { focus: boolean? }?
---@return integer win
function M.open(opts)
  opts = opts or {}
  local buf = M.ensure_buffer()
  M.set_file_options(buf)
  local win = M.window()
  if not win then
    local prev = vim.api.nvim_get_current_win()
    local chat = config.options.chat
    local pos = chat.position
    if pos == 'tab' then
      vim.cmd('tab split')
    else
      local vertical = pos == 'right' or pos == 'left'
      local side = (pos == 'right' or pos == 'below') and 'botright' or 'topleft'
      vim.cmd(('%s %s%ssplit'):format(side, vertical and 'vertical ' or '', chat.size or ''))
    end
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
    setup_window(win)
    pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(buf), 0 })
    if opts.focus == false then
      vim.api.nvim_set_current_win(prev)
    end
  elseif opts.focus ~= false then
    vim.api.nvim_set_current_win(win)
  end
  return win
end

function M.close()
  local win = M.window()
  if win and #vim.api.nvim_tabpage_list_wins(0) > 1 then
    vim.api.nvim_win_close(win, false)
  end
end

--- Clear the transcript (keeps the prompt area).
function M.reset()
  local buf = M.ensure_buffer()
  local row = M.separator_row()
  vim.api.nvim_buf_clear_namespace(buf, ns, 0, row)
  vim.api.nvim_buf_set_lines(buf, 0, row, false, {})
  tools, last_kind = {}, nil
end

--- Transcript lines (everything above the separator).
---@return string[]
function M.transcript()
  if not valid() then
    return {}
  end
  return vim.api.nvim_buf_get_lines(M.bufnr, 0, M.separator_row(), false)
end

--- Text of the prompt area (everything below the separator).
---@return string
function M.prompt_text()
  if not valid() then
    return ''
  end
  local lines = vim.api.nvim_buf_get_lines(M.bufnr, M.separator_row() + 1, -1, false)
  return vim.trim(table.concat(lines, '\n'))
end

--- Insert whole lines at the end of the transcript.
---@param lines string[]
---@return integer first_row 0-based row of the first inserted line
local function insert_lines(lines)
  local row = M.separator_row()
  if row == 0 and #lines > 1 and lines[1] == '' then
    lines = vim.list_slice(lines, 2) -- no blank line at the very top
  end
  vim.api.nvim_buf_set_lines(M.bufnr, row, row, false, lines)
  scroll_to_end()
  return row
end

--- Append text to the end of the last transcript line (newlines start new lines).
---@param text string
---@param prefix string? prefix for each new line (e.g. '> ' for thoughts)
local function append_text(text, prefix)
  local row = M.separator_row() - 1
  if row < 0 then
    insert_lines({ '' })
    row = 0
  end
  local line = vim.api.nvim_buf_get_lines(M.bufnr, row, row + 1, false)[1] or ''
  local pieces = vim.split(text, '\n', { plain = true })
  if prefix then
    for i = 2, #pieces do
      pieces[i] = prefix .. pieces[i]
    end
  end
  vim.api.nvim_buf_set_text(M.bufnr, row, #line, row, #line, pieces)
  scroll_to_end()
end

--- Start a transcript element of `kind` unless the last element already is one.
---@param kind string
local function start(kind)
  if last_kind == kind then
    return
  end
  if kind == 'user' then
    insert_lines({ '', '### You', '' })
  elseif kind == 'agent' then
    if last_kind == 'tool' or last_kind == 'thought' or last_kind == 'note' then
      insert_lines({ '', '' })
    else
      insert_lines({ '', '### pygent', '' })
    end
  elseif kind == 'thought' then
    if last_kind ~= 'agent' and last_kind ~= 'tool' and last_kind ~= 'note' then
      insert_lines({ '', '### pygent' })
    end
    insert_lines({ '> ' })
  end
  last_kind = kind
end

--- Append a user message (typed, or replayed from history).
---@param text string
function M.user_message(text)
  M.ensure_buffer()
  start('user')
  append_text(text)
end

---@param title string
---@param status string
---@return string
local function tool_line(title, status)
  return ('%s%s [%s]'):format(M.TOOL_PREFIX, (title:gsub('\n', ' ')), STATUS_TEXT[status] or status)
end

local function detail_lines(content)
  local out = {}
  for _, item in ipairs(content or {}) do
    if item.type == 'diff' then
      table.insert(out, ('diff %s'):format(item.path or ''))
      local old = item.oldText ~= vim.NIL and item.oldText or ''
      local new = item.newText ~= vim.NIL and item.newText or ''
      local ok, diff = pcall(vim.diff, old, new, { result_type = 'unified', ctxlen = 1 })
      if ok and type(diff) == 'string' then
        vim.list_extend(out, vim.split(diff, '\n', { plain = true, trimempty = true }))
      end
    elseif item.type == 'content' and type(item.content) == 'table' and item.content.type == 'text' then
      vim.list_extend(out, vim.split(item.content.text or '', '\n', { plain = true, trimempty = true }))
    elseif item.type == 'terminal' then
      table.insert(out, 'terminal ' .. tostring(item.terminalId))
    end
  end
  if #out > MAX_DETAIL_LINES then
    local total = #out
    out = vim.list_slice(out, 1, MAX_DETAIL_LINES)
    table.insert(out, ('… %d more lines'):format(total - MAX_DETAIL_LINES))
  end
  for i, l in ipairs(out) do
    out[i] = M.DETAIL_PREFIX .. l
  end
  return out
end

local function render_tool(id, row, title, status)
  local text = tool_line(title, status)
  vim.api.nvim_buf_set_lines(M.bufnr, row, row + 1, false, { text })
  tools[id].mark = vim.api.nvim_buf_set_extmark(M.bufnr, ns, row, 0, {
    id = tools[id].mark,
    end_row = row,
    end_col = #text,
    hl_group = STATUS_HL[status] or 'PygentTool',
  })
end

---@param update table ACP tool_call
local function on_tool_call(update)
  local id = update.toolCallId or ('tool-' .. tostring(vim.tbl_count(tools) + 1))
  if tools[id] then
    return M.on_tool_call_update(update)
  end
  if last_kind ~= 'agent' and last_kind ~= 'tool' and last_kind ~= 'thought' and last_kind ~= 'note' then
    insert_lines({ '', '### pygent' })
  end
  local row = insert_lines({ '' })
  tools[id] = { title = update.title or id, status = update.status or 'pending' }
  if vim.tbl_get(update, '_meta', 'pygent', 'outcome') == 'rejected' then
    tools[id].status = 'rejected'
  end
  render_tool(id, row, tools[id].title, tools[id].status)
  last_kind = 'tool'
  if update.content then
    M.on_tool_call_update(update)
  end
end

---@param update table ACP tool_call_update
function M.on_tool_call_update(update)
  local tool = tools[update.toolCallId]
  if not tool then
    return on_tool_call(vim.tbl_extend('force', { title = update.title or update.toolCallId }, update,
      { sessionUpdate = 'tool_call' }))
  end
  local row = vim.api.nvim_buf_get_extmark_by_id(M.bufnr, ns, tool.mark, {})[1]
  if not row then
    return
  end
  tool.title = update.title or tool.title
  tool.status = update.status or tool.status
  if vim.tbl_get(update, '_meta', 'pygent', 'outcome') == 'rejected' then
    tool.status = 'rejected' -- the person said no: not a failure of the tool
  end
  render_tool(update.toolCallId, row, tool.title, tool.status)
  if update.content then
    local first, last = row + 1, row + 1
    local lines = vim.api.nvim_buf_get_lines(M.bufnr, first, M.separator_row(), false)
    for _, l in ipairs(lines) do
      if not vim.startswith(l, M.DETAIL_PREFIX) then
        break
      end
      last = last + 1
    end
    vim.api.nvim_buf_set_lines(M.bufnr, first, last, false, detail_lines(update.content))
  end
end

--- Mark tool call `id` as waiting for your review (its edit is open in a review tab); the next
--- tool_call_update with a status replaces it.
---@param id string
function M.mark_reviewing(id)
  local tool = valid() and tools[id]
  if not tool then
    return
  end
  local row = vim.api.nvim_buf_get_extmark_by_id(M.bufnr, ns, tool.mark, {})[1]
  if row then
    tool.status = 'reviewing'
    render_tool(id, row, tool.title, tool.status)
  end
end

--- Show one line saying a permission is being asked.
---@param params table
function M.note_permission(params)
  if not valid() then
    return
  end
  local title = vim.tbl_get(params, 'toolCall', 'title') or 'a tool call'
  M.note(('pygent asks permission: %s'):format(title))
end

--- A one-line italic note in the transcript.
---@param text string
function M.note(text)
  M.ensure_buffer()
  insert_lines({ '', ('_%s_'):format(text) })
  last_kind = 'note'
end

--- The block of a slash command in the transcript: `### /name args (plugin P)` and its text (or
--- `Error: …` and the hint). Its own block, so it never reads as the model's answer.
---@param invocation string `/name args`
---@param source string? the plugin
---@param text string? the command's text (Markdown)
---@param err string? the error message, when it failed
---@param hint string? what to do about the error
function M.command_output(invocation, source, text, err, hint)
  M.ensure_buffer()
  local header = ('### %s%s'):format((invocation:gsub('\n', ' ')), source and (' (plugin ' .. source .. ')') or '')
  local lines = { '', header, '' }
  if err then
    vim.list_extend(lines, vim.split('Error: ' .. err, '\n', { plain = true }))
    if hint then
      vim.list_extend(lines, vim.split(('_%s_'):format(hint), '\n', { plain = true }))
    end
  else
    vim.list_extend(lines, vim.split(text or '', '\n', { plain = true }))
  end
  insert_lines(lines)
  last_kind = 'command'
end

local function render_plan(entries)
  local lines = { '', '**Plan**' }
  for _, entry in ipairs(entries or {}) do
    local mark = entry.status == 'completed' and 'x' or (entry.status == 'in_progress' and '~' or ' ')
    table.insert(lines, ('- [%s] %s'):format(mark, entry.content or ''))
  end
  insert_lines(lines)
  last_kind = 'note'
end

--- Handle one `pygent/session/update` notification.
---@param params { sessionId: string, update: table }
function M.on_update(params)
  local client = require('pygent.client')
  if type(params) ~= 'table' or type(params.update) ~= 'table' then
    return
  end
  if params.sessionId == M.muted_session then
    return -- a silent reload of the session already on screen
  end
  if client.session_id and params.sessionId ~= client.session_id then
    return
  end
  M.ensure_buffer()
  local update = params.update
  local kind = update.sessionUpdate
  local content = update.content
  if kind == 'agent_message_chunk' or kind == 'agent_thought_chunk' or kind == 'user_message_chunk' then
    if type(content) ~= 'table' then
      return
    end
    local text = content.type == 'text' and content.text
      or (content.type == 'resource_link' and ('[%s](%s)'):format(content.name or content.uri, content.uri))
      or nil
    if not text then
      return
    end
    if kind == 'agent_message_chunk' then
      start('agent')
      append_text(text)
    elseif kind == 'agent_thought_chunk' then
      start('thought')
      append_text(text, '> ')
    else
      start('user')
      append_text(text)
    end
  elseif kind == 'tool_call' then
    on_tool_call(update)
  elseif kind == 'tool_call_update' then
    M.on_tool_call_update(update)
  elseif kind == 'plan' then
    render_plan(update.entries)
  elseif kind == 'current_mode_update' then
    local mode = update.currentModeId or update.modeId
    if type(mode) == 'string' and mode ~= M.mode then
      if M.mode ~= nil then
        M.note('mode: ' .. M.mode_name(mode))
      end
      M.mode = mode
    end
    set_separator()
  elseif kind == 'usage_update' then
    local usage = vim.tbl_get(update, '_meta', 'pygent', 'usage')
    if type(usage) == 'table' then
      M.usage = usage
      set_separator()
    end
  elseif kind == 'pygent_notice' then
    local message = type(update.message) == 'string' and update.message or vim.inspect(update.message)
    local level = update.level
    M.note(level == 'error' and ('Error: ' .. message) or level == 'warning' and ('Warning: ' .. message) or message)
  else
    -- A kind this plugin does not know yet: show it rather than drop it.
    M.note(('(update %s)'):format(tostring(kind)))
  end
end

--- Mark the chat busy (a turn is running) or idle.
---@param busy boolean
function M.set_busy(busy)
  M.busy = busy
  if valid() then
    set_separator()
  end
end

--- Called when a prompt turn ends.
---@param err string?
---@param result table?
function M.on_turn_done(err, result)
  M.set_busy(false)
  if err then
    M.note('Error: ' .. err)
    vim.notify('pygent: ' .. err, vim.log.levels.ERROR)
  elseif result and result.stopReason and result.stopReason ~= 'end_turn' then
    M.note(('turn ended: %s'):format(result.stopReason))
  end
  if result and type(result.usage) == 'table' and valid() then
    M.usage = result.usage
    set_separator()
  end
end

--- Called when the server process exits.
function M.on_server_exit(code, signal)
  local review = require('pygent.review')
  for _, r in ipairs(vim.list_slice(review.active)) do
    review.reject(r, 'The server exited.')
  end
  if M.busy then
    M.set_busy(false)
  end
  if code ~= 0 and valid() then
    M.note(('pygent serve exited (code %s, signal %s); the next prompt restarts it and continues this session')
      :format(code, signal))
  end
end

--- Put `text` back into the prompt area when it is still empty (a command the server refused).
---@param text string
local function restore_prompt(text)
  if valid() and M.prompt_text() == '' then
    vim.api.nvim_buf_set_lines(M.bufnr, M.separator_row() + 1, -1, false, vim.split(text, '\n', { plain = true }))
  end
end

--- Send the prompt area (the `<CR>` mapping). A `/command` runs instead (see pygent.commands);
--- one refused or failed leaves its text in the prompt area to fix.
function M.send()
  local text = M.prompt_text()
  if text == '' then
    vim.notify('pygent: the prompt area (below the separator) is empty', vim.log.levels.WARN)
    return
  end
  local ran = require('pygent.commands').run(text, {
    on_done = function(err)
      if err then
        restore_prompt(text)
      end
    end,
  })
  if ran == false then
    return -- refused at once: the text stays
  end
  vim.api.nvim_buf_set_lines(M.bufnr, M.separator_row() + 1, -1, false, { '' })
  if ran == nil then
    require('pygent').prompt(text, { context = false })
  end
end

return M
