--- pygent.health: `:checkhealth pygent`.
local config = require('pygent.config')

local M = {}

local health = vim.health

--- Provider env vars litellm reads, by model prefix (the server owns the full list; this is a hint).
local PROVIDER_VARS = {
  anthropic = { 'ANTHROPIC_API_KEY' },
  openai = { 'OPENAI_API_KEY' },
  gemini = { 'GEMINI_API_KEY', 'GOOGLE_API_KEY' },
  openrouter = { 'OPENROUTER_API_KEY' },
  mistral = { 'MISTRAL_API_KEY' },
  groq = { 'GROQ_API_KEY' },
  deepseek = { 'DEEPSEEK_API_KEY' },
  xai = { 'XAI_API_KEY' },
  azure = { 'AZURE_API_KEY' },
  cohere = { 'COHERE_API_KEY' },
  together_ai = { 'TOGETHERAI_API_KEY' },
}
local KEYLESS = { ollama = true, ollama_chat = true, lm_studio = true, vllm = true, hosted_vllm = true }

--- The command that prints the version: `cmd` up to `serve`, then `--version`.
---@param cmd string[]
---@return string[]?
function M.version_cmd(cmd)
  for i, arg in ipairs(cmd) do
    if arg == 'serve' then
      local out = vim.list_slice(cmd, 1, i - 1)
      table.insert(out, '--version')
      return out
    end
  end
  return nil
end

--- Start the server, send `initialize`, and return (result, err) within `timeout` ms.
---@param cmd string[]
---@param env table<string,string>?
---@param timeout integer
---@return table? result, string? err
function M.try_initialize(cmd, env, timeout)
  local exited = nil
  local ok, rpc = pcall(vim.lsp.rpc.start, cmd, {
    on_exit = function(code)
      exited = code
    end,
  }, { env = env, cwd = vim.fn.getcwd() })
  if not ok or not rpc then
    return nil, 'could not spawn: ' .. tostring(rpc)
  end
  local done, result, err = false, nil, nil
  rpc.request('initialize', {
    processId = vim.fn.getpid(),
    rootUri = vim.uri_from_fname(vim.fn.getcwd()),
    capabilities = require('pygent.client').capabilities(),
    clientInfo = { name = 'Neovim (checkhealth)', version = tostring(vim.version()) },
    initializationOptions = vim.empty_dict(),
  }, function(e, r)
    done, result, err = true, r, e
  end)
  vim.wait(timeout, function()
    return done or exited ~= nil
  end, 20)
  if done and not err then
    rpc.request('shutdown', nil, function()
      rpc.notify('exit', nil)
    end)
    vim.wait(2000, function()
      return exited ~= nil
    end, 20)
  end
  if not rpc.is_closing() then
    rpc.terminate()
  end
  if err then
    return nil, 'initialize failed: ' .. (err.message or vim.inspect(err))
  end
  if not done then
    if exited ~= nil then
      return nil, ('the server exited with code %s before answering initialize'):format(exited)
    end
    return nil, ('no answer to initialize within %d ms'):format(timeout)
  end
  return result, nil
end

--- Whether an API key looks configured for `model` (env vars only; the server is the authority).
---@param model string?
---@param env table<string,string>
---@return boolean? configured (nil: cannot tell), string what was checked
function M.api_key_status(model, env)
  local function get(name)
    local v = env[name] or vim.env[name]
    return v ~= nil and v ~= ''
  end
  if get('PYGENT_API_KEY') then
    return true, 'PYGENT_API_KEY is set'
  end
  if not model or model == '' then
    return nil, 'no model set in setup() or PYGENT_MODEL; the key is whatever pygent\'s config names'
  end
  local provider = model:match('^([%w_%-]+)/') or (model:match('^gpt') and 'openai')
    or (model:match('^claude') and 'anthropic') or nil
  if provider and KEYLESS[provider] then
    return true, provider .. ' needs no API key'
  end
  local vars = provider and PROVIDER_VARS[provider]
  if not vars then
    return nil, ('cannot tell which variable model %q reads; pygent config may hold llm.api_key'):format(model)
  end
  for _, var in ipairs(vars) do
    if get(var) then
      return true, var .. ' is set'
    end
  end
  return false, ('none of %s is set (model %s)'):format(table.concat(vars, ', '), model)
end

function M.check()
  local opts = config.options
  health.start('pygent: Neovim')
  local v = vim.version()
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok(('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch))
  else
    health.error(('Neovim %d.%d.%d is too old'):format(v.major, v.minor, v.patch), { 'pygent needs Neovim >= 0.10' })
  end

  health.start('pygent: server')
  local cmd = opts.cmd
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    health.error(('%q is not an executable on $PATH'):format(cmd[1]), {
      'Install pygent: pipx install pygent (or uv tool install pygent)',
      'Or point the plugin at it: require("pygent").setup({ cmd = { "/path/to/pygent", "serve" } })',
    })
    return
  end
  health.ok(('executable: %s (cmd = %s)'):format(exe, table.concat(cmd, ' ')))
  local vcmd = M.version_cmd(cmd)
  if vcmd then
    local res = vim.system(vcmd, { text = true, env = opts.cmd_env }):wait(10000)
    local out = vim.trim((res.stdout or '') .. (res.stderr or ''))
    if res.code == 0 then
      health.ok('version: ' .. out)
    else
      health.error(('%s failed (exit %s): %s'):format(table.concat(vcmd, ' '), tostring(res.code), out))
    end
  end
  local result, err = M.try_initialize(cmd, opts.cmd_env, 15000)
  if not result then
    health.error('the server does not start: ' .. err, { 'Run `' .. table.concat(cmd, ' ') .. '` in a terminal '
      .. 'to see its error, and check the log (pygent logs)' })
  else
    local info = result.serverInfo or {}
    health.ok(('server starts: %s %s answered initialize'):format(info.name or '?', info.version or ''))
    if not vim.tbl_get(result, 'capabilities', 'experimental', 'pygent') then
      health.warn('the server did not announce the pygent protocol (capabilities.experimental.pygent)')
    end
  end

  health.start('pygent: model and API key')
  local env = opts.cmd_env or {}
  local model = opts.model or env.PYGENT_MODEL or vim.env.PYGENT_MODEL
  local server_side = result and vim.tbl_get(result, 'capabilities', 'experimental', 'pygent') or {}
  if server_side.model then
    model = server_side.model
  end
  if model then
    health.info('model: ' .. model)
  end
  if server_side.apiKeyConfigured ~= nil then
    if server_side.apiKeyConfigured then
      health.ok('API key configured (the server found one)')
    else
      health.error('no API key configured for ' .. (model or 'the model'), {
        'Set the provider variable (e.g. ANTHROPIC_API_KEY) or PYGENT_API_KEY, or llm.api_key in pygent\'s config',
      })
    end
    return
  end
  local configured, what = M.api_key_status(model, env)
  if configured == true then
    health.ok('API key configured: ' .. what)
  elseif configured == false then
    health.error('no API key configured: ' .. what, {
      'Export the variable in the shell that starts Neovim, or set it in cmd_env, or set llm.api_key with '
        .. '`pygent config set llm.api_key ...`',
    })
  else
    health.warn('API key: ' .. what)
  end
end

return M
