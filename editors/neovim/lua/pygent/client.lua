--- pygent.client: starts `pygent serve` with vim.lsp.start and owns the session.
---
--- Server-to-client requests that need a person (permission prompts, edit review) are answered
--- asynchronously: Neovim (0.10+) runs every server request handler inside a coroutine
--- (`vim.lsp.rpc`: `vim.schedule(coroutine.wrap(...))`), so a handler may `coroutine.yield()` while
--- the UI is up and is resumed with the answer, exactly like the built-in
--- `window/showMessageRequest` handler. Outside a coroutine (a handler called by hand), `await`
--- falls back to `vim.wait`, which keeps the event loop running.
local config = require('pygent.config')

local M = {}

M.NAME = 'pygent'

---@type integer?
M.client_id = nil
---@type string?
M.session_id = nil
---@type string?
M.root_dir = nil
--- Session to continue when the server restarts (it exited, or was stopped, mid-conversation).
---@type string?
M.resume_id = nil
--- Permission modes the server offers (`session/new` / `load` result `modes.availableModes`):
--- `{ id, name, description }` each; empty until the first session exists.
---@type { id: string, name: string?, description: string? }[]
M.modes = {}
--- Prompt request in flight: { id = request id, session_id = string }.
---@type { id: integer, session_id: string }?
M.pending = nil

-- Neovim 0.11 made client methods colon calls (the dot form is deprecated there); 0.10 only has
-- the dot form. These wrappers keep one code path.
local HAS_011 = vim.fn.has('nvim-0.11') == 1

--- client:request(...) on 0.11+, client.request(...) on 0.10.
---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param handler fun(err: lsp.ResponseError?, result: any)
---@return boolean ok, integer? request_id
function M.request(client, method, params, handler)
  if HAS_011 then
    return client:request(method, params, handler)
  end
  return client.request(method, params, handler) ---@diagnostic disable-line
end

---@param client vim.lsp.Client
---@param method string
---@param params table?
function M.notify(client, method, params)
  if HAS_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params) ---@diagnostic disable-line
end

---@param client vim.lsp.Client
---@return boolean
local function is_stopped(client)
  if HAS_011 then
    return client:is_stopped()
  end
  return client.is_stopped() ---@diagnostic disable-line
end

--- Remember the server's `modes` (from a session/new or session/load result) and show the current one.
---@param modes table?
function M.take_modes(modes)
  if type(modes) ~= 'table' then
    return
  end
  if type(modes.availableModes) == 'table' and #modes.availableModes > 0 then
    M.modes = modes.availableModes
  end
  if type(modes.currentModeId) == 'string' then
    local chat = require('pygent.chat')
    chat.mode = modes.currentModeId
    chat.set_busy(chat.busy)
  end
end

--- Used only before the server has sent its own list (no session yet): completion of
--- `:PygentMode` must offer something. The server's `availableModes` replaces it.
M.FALLBACK_MODE_IDS = { 'ask', 'auto-edit', 'plan', 'auto' }

--- Ids of the modes the server offers (the fallback list before the first session).
---@return string[]
function M.mode_ids()
  if #M.modes == 0 then
    return vim.deepcopy(M.FALLBACK_MODE_IDS)
  end
  return vim.tbl_map(function(m)
    return m.id
  end, M.modes)
end

local waiting_init = {} ---@type fun(client: vim.lsp.Client?, err: string?)[]
local token_counter = 0

--- Run `start(resolve)` and return what `resolve` is called with, without blocking the editor.
--- Inside a coroutine (every server request handler) the coroutine yields until `resolve` runs;
--- elsewhere `vim.wait` pumps the event loop until then.
---@param start fun(resolve: fun(value: any))
---@return any
function M.await(start)
  local co, is_main = coroutine.running()
  if co and not is_main then
    start(function(value)
      -- Schedule: a synchronous vim.ui.select would otherwise resume us before we yield.
      vim.schedule(function()
        local ok, err = coroutine.resume(co, value)
        if not ok then
          vim.notify('pygent: ' .. tostring(err), vim.log.levels.ERROR)
        end
      end)
    end)
    return coroutine.yield()
  end
  local done, result = false, nil
  start(function(value)
    done, result = true, value
  end)
  vim.wait(2 ^ 31 - 1, function()
    return done
  end, 20)
  return result
end

--- Client capabilities: Neovim's defaults plus what pygent's protocol looks for.
---@return lsp.ClientCapabilities
function M.capabilities()
  return vim.tbl_deep_extend('force', vim.lsp.protocol.make_client_capabilities(), {
    workspace = {
      applyEdit = true,
      workspaceEdit = {
        documentChanges = true,
        resourceOperations = { 'create', 'rename', 'delete' },
        changeAnnotationSupport = { groupsOnLabel = true },
      },
    },
    window = { workDoneProgress = true, showMessage = {}, showDocument = { support = true } },
    experimental = { pygent = { permissionRequests = true } },
  })
end

--- Answer a `pygent/session/requestPermission` with `vim.ui.select` over the server's options.
---@param params table ACP RequestPermissionRequest
---@return table outcome
function M.request_permission(params)
  local options = params.options or {}
  local tool = params.toolCall or {}
  local title = tool.title or tool.toolCallId or 'a tool call'
  local reason = vim.tbl_get(params, '_meta', 'reason')
  local prompt = 'pygent wants to: ' .. title .. (reason and (' (' .. reason .. ')') or '')
  -- A question that must show more than a title (the MCP trust question lists each server).
  local message = vim.tbl_get(params, '_meta', 'pygent', 'message')
  if type(message) == 'string' and message ~= '' then
    prompt = message
  end
  require('pygent.chat').note_permission(params)
  local choice = M.await(function(resolve)
    vim.ui.select(options, {
      prompt = prompt,
      kind = 'pygent_permission',
      format_item = function(option)
        return option.name or option.optionId
      end,
    }, function(item)
      resolve(item or vim.NIL)
    end)
  end)
  if type(choice) == 'table' and choice.optionId then
    return { outcome = { outcome = 'selected', optionId = choice.optionId } }
  end
  return { outcome = { outcome = 'cancelled' } }
end

M.handlers = {
  ['pygent/session/update'] = function(_, params)
    require('pygent.chat').on_update(params)
  end,
  ['pygent/session/requestPermission'] = function(_, params)
    return M.request_permission(params)
  end,
  ['workspace/applyEdit'] = function(_, params, ctx)
    return require('pygent.review').on_apply_edit(params, ctx)
  end,
}

--- The workspace root for `bufnr`: the nearest ancestor holding a root marker, else the cwd.
---@param bufnr integer?
---@return string
function M.find_root(bufnr)
  local markers = config.options.root_markers
  local name = vim.api.nvim_buf_get_name(bufnr or 0)
  local start = (name ~= '' and vim.bo[bufnr or 0].buftype == '') and vim.fs.dirname(name) or vim.fn.getcwd()
  local found = vim.fs.root(start, markers)
  return vim.fs.normalize(found or vim.fn.getcwd())
end

---@return vim.lsp.Client?
function M.get()
  if M.client_id then
    local client = vim.lsp.get_client_by_id(M.client_id)
    if client and not is_stopped(client) then
      return client
    end
  end
  M.client_id = nil
  return nil
end

local function flush_waiters(client, err)
  local waiters = waiting_init
  waiting_init = {}
  for _, cb in ipairs(waiters) do
    cb(client, err)
  end
end

--- Start the server (once) and call `cb(client)` when it is initialized, or `cb(nil, err)`.
---@param cb fun(client: vim.lsp.Client?, err: string?)
function M.with_client(cb)
  local client = M.get()
  if client and client.initialized then
    return cb(client)
  end
  table.insert(waiting_init, cb)
  if client then
    return
  end
  local opts = config.options
  local cmd = opts.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    return flush_waiters(nil, ('cannot start the server: %q is not an executable on $PATH. Install pygent '
      .. '(pipx install pygent) or set cmd in require("pygent").setup(), then run :checkhealth pygent'):format(cmd[1]))
  end
  M.root_dir = M.root_dir or M.find_root(0)
  local init_options = vim.tbl_deep_extend('force', {}, opts.init_options or {})
  init_options.model = init_options.model or opts.model
  init_options.permissionMode = init_options.permissionMode or opts.mode
  if vim.tbl_isempty(init_options) then
    init_options = vim.empty_dict() -- {} would encode as a JSON array
  end
  local start = HAS_011 and function(cfg)
    return vim.lsp.start(cfg, { attach = false })
  end or vim.lsp.start_client
  local ok, id = pcall(start, {
    name = M.NAME,
    cmd = cmd,
    cmd_env = opts.cmd_env,
    root_dir = M.root_dir,
    capabilities = M.capabilities(),
    handlers = M.handlers,
    init_options = init_options,
    on_init = function(c)
      vim.schedule(function()
        flush_waiters(c)
      end)
    end,
    on_exit = function(code, signal, id_)
      vim.schedule(function()
        if M.client_id == id_ then
          M.client_id = nil
          M.resume_id = M.session_id or M.resume_id
          M.session_id = nil
          M.pending = nil
          require('pygent.chat').on_server_exit(code, signal)
        end
        if #waiting_init > 0 then
          flush_waiters(nil, ('pygent serve exited (code %s) before it was ready; see :checkhealth pygent '
            .. 'and the log (pygent logs)'):format(tostring(code)))
        end
      end)
    end,
  })
  if not ok or not id then
    return flush_waiters(nil, 'cannot start the server: ' .. tostring(id))
  end
  M.client_id = id
end

--- Call `cb(client, session_id)` once a session exists (created on first use), or `cb(nil, nil, err)`.
---@param cb fun(client: vim.lsp.Client?, session_id: string?, err: string?)
function M.with_session(cb)
  M.with_client(function(client, err)
    if not client then
      return cb(nil, nil, err)
    end
    if M.session_id then
      return cb(client, M.session_id)
    end
    if M.resume_id then
      -- Continue the conversation the chat shows: load it again (its replay is not re-rendered).
      local id = M.resume_id
      M.resume_id = nil
      local chat = require('pygent.chat')
      chat.muted_session = id
      return M.request(client, 'pygent/session/load', { sessionId = id, cwd = M.root_dir, mcpServers = {} },
        function(rerr, result)
          chat.muted_session = nil
          if rerr then
            chat.note(('could not continue session %s (%s); starting a new one'):format(id, rerr.message or '?'))
            return M.with_session(cb)
          end
          M.session_id = id
          M.take_modes(type(result) == 'table' and result.modes or nil)
          require('pygent.commands').refresh(client, id)
          cb(client, id)
        end)
    end
    M.request(client, 'pygent/session/new', { cwd = M.root_dir }, function(rerr, result)
      if rerr or type(result) ~= 'table' or not result.sessionId then
        return cb(nil, nil, 'could not create a session: ' .. (rerr and rerr.message or vim.inspect(result)))
      end
      M.session_id = result.sessionId
      M.take_modes(result.modes)
      require('pygent.commands').refresh(client, M.session_id)
      cb(client, M.session_id)
    end)
  end)
end

--- Send a server request once a client exists; `cb(err, result)` with err a string.
---@param method string
---@param params table|fun(session_id: string): table
---@param cb fun(err: string?, result: any)?
function M.session_request(method, params, cb)
  cb = cb or function() end
  M.with_session(function(client, sid, err)
    if not client or not sid then
      return cb(err)
    end
    local p = type(params) == 'function' and params(sid) or params
    M.request(client, method, p, function(rerr, result)
      if rerr then
        return cb(rerr.message or vim.inspect(rerr), nil)
      end
      cb(nil, result)
    end)
  end)
end

--- Send one prompt turn. `on_done(err, result)` runs when the turn ends (result.stopReason).
---@param blocks table[] ACP content blocks
---@param on_done fun(err: string?, result: table?)?
function M.prompt(blocks, on_done)
  on_done = on_done or function() end
  M.with_session(function(client, sid, err)
    if not client or not sid then
      return on_done(err)
    end
    token_counter = token_counter + 1
    local ok, req_id = M.request(client, 'pygent/session/prompt', {
      sessionId = sid,
      prompt = blocks,
      workDoneToken = ('pygent-%d'):format(token_counter),
    }, function(rerr, result)
      if M.pending and M.pending.session_id == sid then
        M.pending = nil
      end
      if rerr then
        return on_done(rerr.message or vim.inspect(rerr))
      end
      on_done(nil, result)
    end)
    if ok then
      M.pending = { id = req_id, session_id = sid }
    else
      on_done('the server connection is closed')
    end
  end)
end

--- Cancel the running turn (the prompt then answers `{stopReason = "cancelled"}`).
---@return boolean sent
function M.cancel()
  local client = M.get()
  if not client or not M.session_id then
    return false
  end
  M.notify(client, 'pygent/session/cancel', { sessionId = M.session_id })
  return true
end

--- Attach a file buffer so the server sees its unsaved text (textDocument/didOpen + didChange).
---@param bufnr integer
function M.attach_buffer(bufnr)
  if not config.options.attach_buffers or not M.client_id then
    return
  end
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
    return
  end
  if not vim.lsp.buf_is_attached(bufnr, M.client_id) then
    pcall(vim.lsp.buf_attach_client, bufnr, M.client_id)
  end
end

--- Stop the server (used by tests and :PygentStop-like flows).
function M.stop()
  local client = M.get()
  if client then
    if HAS_011 then
      client:stop(true)
    else
      client.stop(true) ---@diagnostic disable-line
    end
  end
  M.resume_id = M.session_id or M.resume_id
  M.client_id, M.session_id, M.pending = nil, nil, nil
end

return M
