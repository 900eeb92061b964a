--- pygent.review: review of `workspace/applyEdit` in Neovim's diff mode.
---
--- Each changed document opens in a tab with the current text on the left and the proposed text
--- on the right (`:diffthis` on both). Creates, renames and deletes are listed in a summary tab.
--- One decision covers the whole edit: accept all, reject all, or reject with a reason that is
--- sent back as `failureReason` (the server tells the model). Accepted edits go through
--- `vim.lsp.util.apply_workspace_edit`, so open buffers update and `u` undoes them; changed buffers
--- are then written (option `review.write`). Neovim (<= 0.11) ignores `needsConfirmation`
--- annotations, which is why the plugin handles the request itself.
local config = require('pygent.config')

local M = {}

---@class pygent.ReviewDoc
---@field path string
---@field uri string
---@field current string[] lines now (buffer if loaded, else disk; {} for a new file)
---@field proposed string[] lines after the edit
---@field proposed_text string

---@class pygent.Review
---@field label string
---@field docs pygent.ReviewDoc[]
---@field ops table[] resource operations ({ kind, uri | oldUri/newUri })
---@field tabs integer[]
---@field bufs integer[]
---@field done boolean
---@field resolve fun(decision: { accept: boolean, reason: string? })

---@type pygent.Review[]
M.active = {}

---@param text string
---@return string[]
local function text_to_lines(text)
  if text == '' then
    return {}
  end
  local lines = vim.split(text, '\n', { plain = true })
  if lines[#lines] == '' then
    table.remove(lines)
  end
  return lines
end

--- Resource operations (create, rename, delete) of a WorkspaceEdit, in order.
---@param edit table lsp.WorkspaceEdit
---@return table[]
function M.operations(edit)
  local ops = {}
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == 'create' or change.kind == 'rename' or change.kind == 'delete' then
      table.insert(ops, change)
    elseif change.kind then
      error(('unsupported change kind %q'):format(tostring(change.kind)))
    end
  end
  return ops
end

--- The documents to show, from the server's own before/after texts: `_meta.pygent.files` of
--- `workspace/applyEdit`, `{ uri, oldText, newText }` each (`oldText` null for a new file, `newText`
--- null for a deleted one; a rename adds `oldUri` and the same text on both sides). Nothing is
--- re-derived from the WorkspaceEdit's ranges. Errors (raised) name what is malformed.
---@param params table lsp.ApplyWorkspaceEditParams
---@param edit table lsp.WorkspaceEdit
---@return pygent.ReviewDoc[] docs, table[] ops
function M.prepare(params, edit)
  local files = vim.tbl_get(params, '_meta', 'pygent', 'files')
  if type(files) ~= 'table' or not vim.islist(files) then
    error('the request has no _meta.pygent.files (is the server an older pygent? update it so both '
      .. 'come from the same release)', 0)
  end
  local docs, by_uri = {}, {} ---@type pygent.ReviewDoc[], table<string, pygent.ReviewDoc>
  for i, file in ipairs(files) do
    if type(file) ~= 'table' or type(file.uri) ~= 'string' then
      error(('_meta.pygent.files[%d] has no uri'):format(i), 0)
    end
    local old = type(file.oldText) == 'string' and file.oldText:gsub('\r\n', '\n') or ''
    local new = type(file.newText) == 'string' and file.newText:gsub('\r\n', '\n') or nil
    local moved_only = type(file.oldUri) == 'string' and new == old
    if new ~= nil and not moved_only then
      local doc = by_uri[file.uri]
      if doc then -- a later change of the same file: the review shows first-before vs last-after
        doc.proposed, doc.proposed_text = text_to_lines(new), new
      else
        doc = { path = vim.uri_to_fname(file.uri), uri = file.uri, current = text_to_lines(old),
          proposed = text_to_lines(new), proposed_text = new }
        by_uri[file.uri] = doc
        table.insert(docs, doc)
      end
    end
  end
  return docs, M.operations(edit)
end

local function relpath(path)
  local rel = vim.fn.fnamemodify(path, ':~:.')
  return rel ~= '' and rel or path
end

--- One line per resource operation, for the summary tab.
---@param op table
---@return string
function M.describe_op(op)
  if op.kind == 'create' then
    return 'create ' .. relpath(vim.uri_to_fname(op.uri))
  elseif op.kind == 'rename' then
    return ('rename %s -> %s'):format(relpath(vim.uri_to_fname(op.oldUri)), relpath(vim.uri_to_fname(op.newUri)))
  elseif op.kind == 'delete' then
    return 'delete ' .. relpath(vim.uri_to_fname(op.uri))
  end
  return vim.inspect(op)
end

local function key_help()
  local k = config.options.keymaps.review
  return ('%s accept all · %s reject all · %s reject with a reason'):format(k.accept or '-', k.reject or '-',
    k.reject_with_reason or '-')
end

local function scratch(name, lines, ft)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  pcall(vim.api.nvim_buf_set_name, buf, name)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].modifiable = false
  if ft and ft ~= '' then
    vim.bo[buf].filetype = ft
  end
  return buf
end

--- Finish `review` with a decision: close its tabs and resolve the waiting handler.
---@param review pygent.Review
---@param decision { accept: boolean, reason: string? }
function M.finish(review, decision)
  if review.done then
    return
  end
  review.done = true
  for i, r in ipairs(M.active) do
    if r == review then
      table.remove(M.active, i)
      break
    end
  end
  for _, tab in ipairs(review.tabs) do
    if vim.api.nvim_tabpage_is_valid(tab) and #vim.api.nvim_list_tabpages() > 1 then
      pcall(vim.cmd.tabclose, vim.api.nvim_tabpage_get_number(tab))
    end
  end
  for _, buf in ipairs(review.bufs) do
    if vim.api.nvim_buf_is_valid(buf) then
      pcall(vim.api.nvim_buf_delete, buf, { force = true })
    end
  end
  review.resolve(decision)
end

--- Accept the review (every change).
---@param review pygent.Review?
function M.accept(review)
  review = review or M.active[#M.active]
  if review then
    M.finish(review, { accept = true })
  end
end

--- Reject the review; `reason` (optional) is sent to the model.
---@param review pygent.Review?
---@param reason string?
function M.reject(review, reason)
  review = review or M.active[#M.active]
  if review then
    M.finish(review, { accept = false, reason = reason })
  end
end

--- Ask for a reason with vim.ui.input, then reject.
---@param review pygent.Review?
function M.reject_with_reason(review)
  review = review or M.active[#M.active]
  if not review then
    return
  end
  vim.ui.input({ prompt = 'Why reject? (sent to pygent) ' }, function(input)
    if input == nil then
      return -- cancelled the input: keep reviewing
    end
    input = vim.trim(input)
    M.reject(review, input ~= '' and input or nil)
  end)
end

local function set_keymaps(review, buf)
  local k = config.options.keymaps.review
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set('n', lhs, function()
        fn(review)
      end, { buffer = buf, nowait = true, desc = desc })
    end
  end
  map(k.accept, M.accept, 'pygent: accept the proposed changes')
  map(k.reject, M.reject, 'pygent: reject the proposed changes')
  map(k.reject_with_reason, M.reject_with_reason, 'pygent: reject, telling pygent why')
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(function()
        M.finish(review, { accept = false, reason = 'The user closed the review without accepting the change.' })
      end)
    end,
  })
end

--- Open the review UI; `resolve` is called once with the decision.
---@param docs pygent.ReviewDoc[]
---@param ops table[]
---@param label string?
---@param resolve fun(decision: { accept: boolean, reason: string? })
---@return pygent.Review
function M.open(docs, ops, label, resolve)
  ---@type pygent.Review
  local review = { label = label or 'pygent edit', docs = docs, ops = ops, tabs = {}, bufs = {}, done = false,
    resolve = resolve }
  table.insert(M.active, review)
  local total = #docs + (#ops > 0 and 1 or 0)
  local n = 0
  local function winbar(what)
    n = n + 1
    return ('pygent review %d/%d: %s — %s'):format(n, total, what, key_help()):gsub('%%', '%%%%')
  end
  if #ops > 0 then
    local lines = { ('# %s'):format(review.label), '', 'Files to create, rename or delete:', '' }
    for _, op in ipairs(ops) do
      table.insert(lines, '- ' .. M.describe_op(op))
    end
    vim.list_extend(lines, { '', key_help() })
    vim.cmd('tabnew')
    local buf = scratch(('pygent://review/%d/operations'):format(#M.active), lines, 'markdown')
    local win = vim.api.nvim_get_current_win()
    local empty = vim.api.nvim_win_get_buf(win)
    vim.api.nvim_win_set_buf(win, buf)
    if empty ~= buf and vim.api.nvim_buf_is_valid(empty) and vim.api.nvim_buf_get_name(empty) == '' then
      pcall(vim.api.nvim_buf_delete, empty, { force = true })
    end
    vim.wo[win].winbar = winbar('files')
    table.insert(review.tabs, vim.api.nvim_get_current_tabpage())
    table.insert(review.bufs, buf)
    set_keymaps(review, buf)
  end
  for i, doc in ipairs(docs) do
    local ft = vim.filetype.match({ filename = doc.path }) or ''
    local rel = relpath(doc.path)
    vim.cmd('tabnew')
    local left_win = vim.api.nvim_get_current_win()
    local empty = vim.api.nvim_win_get_buf(left_win)
    local cur = scratch(('pygent://review/%d/%d/current/%s'):format(#M.active, i, rel), doc.current, ft)
    local new = scratch(('pygent://review/%d/%d/proposed/%s'):format(#M.active, i, rel), doc.proposed, ft)
    vim.api.nvim_win_set_buf(left_win, cur)
    if vim.api.nvim_buf_is_valid(empty) and empty ~= cur and vim.api.nvim_buf_get_name(empty) == '' then
      pcall(vim.api.nvim_buf_delete, empty, { force = true })
    end
    vim.cmd('diffthis')
    vim.cmd('rightbelow vsplit')
    local right_win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(right_win, new)
    vim.cmd('diffthis')
    vim.wo[left_win].winbar = ('current: %s'):format(rel):gsub('%%', '%%%%')
    vim.wo[right_win].winbar = winbar('proposed ' .. rel)
    table.insert(review.tabs, vim.api.nvim_get_current_tabpage())
    vim.list_extend(review.bufs, { cur, new })
    set_keymaps(review, cur)
    set_keymaps(review, new)
  end
  if #review.tabs > 0 then
    vim.api.nvim_set_current_tabpage(review.tabs[1])
  end
  return review
end

--- Write the buffers an accepted edit changed (option `review.write`).
---@param docs pygent.ReviewDoc[]
local function write_buffers(docs)
  for _, doc in ipairs(docs) do
    local buf = vim.fn.bufnr(doc.path)
    if buf ~= -1 and vim.api.nvim_buf_is_loaded(buf) then
      -- The buffer must hold exactly the proposed text (Neovim adds a trailing empty line when an
      -- edit inserts at the end of a new file); fix it in the same undo block.
      local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
      if not vim.deep_equal(lines, doc.proposed) and not (#doc.proposed == 0 and #lines == 1 and lines[1] == '') then
        vim.api.nvim_buf_call(buf, function()
          pcall(vim.cmd, 'undojoin')
        end)
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, doc.proposed)
      end
      if config.options.review.write and vim.bo[buf].modified then
        vim.bo[buf].eol = doc.proposed_text:sub(-1) == '\n' or doc.proposed_text == ''
        vim.api.nvim_buf_call(buf, function()
          vim.cmd('silent keepalt write!')
        end)
      end
    end
  end
end

--- Apply an accepted WorkspaceEdit. Returns nil on success, else the failure reason.
---@param edit table
---@param encoding string
---@param docs pygent.ReviewDoc[]
---@param client_id integer?
---@return string?
function M.apply(edit, encoding, docs, client_id)
  -- Versions are only meaningful for buffers synced with the server; for the others Neovim would
  -- compare against its own changedtick and silently skip the edit.
  for _, change in ipairs(edit.documentChanges or {}) do
    local td = change.textDocument
    if td and td.version == vim.NIL then
      td.version = nil -- JSON null decoded without luanil
    end
    if td and td.version ~= nil then
      local buf = vim.fn.bufnr(vim.uri_to_fname(td.uri))
      local synced = buf ~= -1 and client_id and vim.lsp.buf_is_attached(buf, client_id)
      if synced and vim.lsp.util.buf_versions[buf] > td.version then
        return ('%s changed in the editor since the edit was proposed (version %d > %d); read it again and '
          .. 'propose the edit anew'):format(relpath(vim.uri_to_fname(td.uri)), vim.lsp.util.buf_versions[buf],
          td.version)
      end
      if not synced then
        td.version = nil
      end
    end
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, edit, encoding)
  if not ok then
    return 'Neovim could not apply the edit: ' .. tostring(err)
  end
  local wok, werr = pcall(write_buffers, docs)
  if not wok then
    return 'the edit was applied in the editor but writing the file failed: ' .. tostring(werr)
  end
  return nil
end

--- The `workspace/applyEdit` handler: review, then apply or reject. Runs in the request coroutine.
---@param params table lsp.ApplyWorkspaceEditParams
---@param ctx table
---@return table lsp.ApplyWorkspaceEditResult
function M.on_apply_edit(params, ctx)
  local client = ctx and ctx.client_id and vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or 'utf-16'
  local edit = type(params) == 'table' and params.edit
  if type(edit) ~= 'table' then
    return { applied = false, failureReason = 'workspace/applyEdit without an edit' }
  end
  local ok, docs, ops = pcall(M.prepare, params, edit)
  if not ok then
    return { applied = false, failureReason = 'pygent.nvim could not read the edit: ' .. tostring(docs) }
  end
  if #docs == 0 and #ops == 0 then
    return { applied = true }
  end
  local call_id = vim.tbl_get(params, '_meta', 'pygent', 'toolCallId')
  if type(call_id) == 'string' then
    require('pygent.chat').mark_reviewing(call_id)
  end
  local decision = require('pygent.client').await(function(resolve)
    M.open(docs, ops, params.label, resolve)
  end)
  if type(decision) ~= 'table' or not decision.accept then
    local reason = type(decision) == 'table' and decision.reason or nil
    return { applied = false, failureReason = reason or 'The user rejected the change.' }
  end
  local failure = M.apply(edit, encoding, docs, ctx and ctx.client_id)
  if failure then
    vim.notify('pygent: ' .. failure, vim.log.levels.ERROR)
    return { applied = false, failureReason = failure }
  end
  return { applied = true }
end

return M
