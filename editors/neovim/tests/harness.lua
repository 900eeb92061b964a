--- A small self-contained test harness for pygent.nvim, run inside `nvim --headless`.
---
--- Usage: nvim --clean --headless -u NONE -l tests/run.lua tests/spec/chat_spec.lua [...]
--- A spec file calls `it(name, fn)` (globals installed by the runner); `fn` fails by raising.
--- The runner prints one `ok`/`not ok` line per test, then `N passed, N failed`, writes a JSON
--- report to $PYGENT_TEST_RESULTS when set, and exits 1 when anything failed.
---
--- Helpers for specs: starting the fake LLM server (`H.fake_llm`), a throwaway project (`H.project`),
--- configuring the plugin against them (`H.setup_plugin`), waiting (`H.wait_for`), assertions.
local H = {}

H.tests = {} ---@type { name: string, fn: fun(), file: string }[]
H.after_each_hooks = {} ---@type fun()[]
H.current_file = nil ---@type string?

H.python = vim.env.PYGENT_TEST_PYTHON or 'python3'
H.timeout = tonumber(vim.env.PYGENT_TEST_TIMEOUT or '') or 90000

--- Register a test.
---@param name string
---@param fn fun()
function H.it(name, fn)
  table.insert(H.tests, { name = name, fn = fn, file = H.current_file })
end

--- Run `fn` after every test of the file (cleanup).
function H.after_each(fn)
  table.insert(H.after_each_hooks, fn)
end

-- Assertions ---------------------------------------------------------------------------------

function H.eq(expected, actual, msg)
  if not vim.deep_equal(expected, actual) then
    error(('%sexpected %s, got %s'):format(msg and (msg .. ': ') or '', vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function H.truthy(value, msg)
  if not value then
    error(msg or 'expected a truthy value', 2)
  end
  return value
end

function H.contains(haystack, needle, msg)
  if type(haystack) == 'table' then
    haystack = table.concat(haystack, '\n')
  end
  if not tostring(haystack):find(needle, 1, true) then
    error(('%sexpected to find %q in:\n%s'):format(msg and (msg .. ': ') or '', needle, haystack), 2)
  end
end

function H.not_contains(haystack, needle, msg)
  if type(haystack) == 'table' then
    haystack = table.concat(haystack, '\n')
  end
  if tostring(haystack):find(needle, 1, true) then
    error(('%sdid not expect %q in:\n%s'):format(msg and (msg .. ': ') or '', needle, haystack), 2)
  end
end

--- Wait until `cond()` is truthy, else fail with `what` (and `detail()` if given).
---@param cond fun(): any
---@param what string
---@param timeout integer?
---@param detail (fun(): string)?
function H.wait_for(cond, what, timeout, detail)
  local ok = vim.wait(timeout or H.timeout, function()
    local good, value = pcall(cond)
    return good and value
  end, 10)
  if not ok then
    error(('timed out waiting for %s%s'):format(what, detail and ('\n' .. detail()) or ''), 2)
  end
end

-- Files and processes ------------------------------------------------------------------------

function H.read(path)
  local f = assert(io.open(path, 'rb'))
  local data = f:read('*a')
  f:close()
  return data
end

function H.write(path, data)
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  local f = assert(io.open(path, 'wb'))
  f:write(data)
  f:close()
end

--- A fresh project directory with `files` (relative path -> content); becomes the cwd.
---@param files table<string, string>?
---@return string root
function H.project(files)
  local root = vim.fs.normalize(vim.fn.tempname() .. '-project')
  vim.fn.mkdir(root .. '/.git', 'p') -- a root marker; pygent needs no real repository here
  for rel, data in pairs(files or {}) do
    H.write(root .. '/' .. rel, data)
  end
  root = vim.uv.fs_realpath(root) or root
  vim.cmd.cd(vim.fn.fnameescape(root))
  return root
end

H.processes = {} ---@type vim.SystemObj[]

--- Start the fake OpenAI-compatible server with `script` (a list of items, see pygent.testing.fake_llm).
---@param script table[]
---@param opts { chunk_size: integer? }?
---@return { port: integer, base_url: string, url: string, proc: vim.SystemObj }
function H.fake_llm(script, opts)
  opts = opts or {}
  local file = vim.fn.tempname() .. '-script.json'
  H.write(file, vim.json.encode(script))
  local first_line, buffer, stderr = nil, '', {}
  local cmd = { H.python, '-m', 'pygent.testing.fake_llm', '--script', file }
  if opts.chunk_size then
    vim.list_extend(cmd, { '--chunk-size', tostring(opts.chunk_size) })
  end
  local proc = vim.system(cmd, {
    text = true,
    stdout = function(_, data)
      if data and not first_line then
        buffer = buffer .. data
        first_line = buffer:match('^(%d+)%s*\n')
      end
    end,
    stderr = function(_, data)
      if data then
        table.insert(stderr, data)
      end
    end,
  })
  table.insert(H.processes, proc)
  H.wait_for(function()
    return first_line
  end, 'the fake LLM server to print its port', 20000, function()
    return table.concat(stderr)
  end)
  local port = assert(tonumber(first_line))
  local url = ('http://127.0.0.1:%d'):format(port)
  return { port = port, url = url, base_url = url .. '/v1', proc = proc }
end

--- HTTP GET/POST to the fake server's control endpoints (through Python: no curl needed).
---@param fake table from H.fake_llm
---@param method 'GET'|'POST'
---@param path string
---@param body table?
---@return any decoded JSON
function H.fake_http(fake, method, path, body)
  local code = [[
import json, sys, urllib.request
url, method, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=body.encode() if method == "POST" else None, method=method,
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=10) as resp:
    sys.stdout.write(resp.read().decode())
]]
  local res = vim.system({ H.python, '-c', code, fake.url .. path, method, body and vim.json.encode(body) or '' },
    { text = true }):wait(15000)
  if res.code ~= 0 then
    error(('fake server %s %s failed: %s'):format(method, path, res.stderr or ''), 2)
  end
  return vim.json.decode(res.stdout, { luanil = { object = true, array = true } })
end

--- Every chat-completion request body the fake server received so far.
function H.fake_requests(fake)
  return H.fake_http(fake, 'GET', '/_fake/requests')
end

--- Replace the fake server's script.
function H.fake_script(fake, script)
  return H.fake_http(fake, 'POST', '/_fake/script', script)
end

--- Configure the plugin to run the real `pygent serve` (from this Python) against `fake`.
---@param fake table
---@param extra table? more setup() options
function H.setup_plugin(fake, extra)
  local env = {
    PYGENT_MODEL = 'openai/fake-model',
    PYGENT_API_BASE = fake.base_url,
    PYGENT_API_KEY = 'sk-fake',
  }
  require('pygent').setup(vim.tbl_deep_extend('force', {
    cmd = { H.python, '-m', 'pygent', 'serve' },
    cmd_env = env,
  }, extra or {}))
end

--- The chat transcript as one string.
function H.chat_text()
  return table.concat(require('pygent.chat').transcript(), '\n')
end

--- Wait for the current turn to end (the chat is no longer busy).
function H.wait_idle(timeout)
  H.wait_for(function()
    return not require('pygent.chat').busy
  end, 'the turn to end', timeout, H.chat_text)
end

--- Run every registered test; print the report; return the number of failures.
---@return integer failed
function H.run()
  local passed, failed = 0, 0
  local results = {}
  for i, t in ipairs(H.tests) do
    local start = vim.uv.hrtime()
    local ok, err = xpcall(t.fn, debug.traceback)
    for _, hook in ipairs(H.after_each_hooks) do
      local hok, herr = pcall(hook)
      if not hok and ok then
        ok, err = false, 'after_each: ' .. tostring(herr)
      end
    end
    local ms = math.floor((vim.uv.hrtime() - start) / 1e6)
    if ok then
      passed = passed + 1
      io.stdout:write(('ok %d - %s (%d ms)\n'):format(i, t.name, ms))
    else
      failed = failed + 1
      io.stdout:write(('not ok %d - %s (%d ms)\n'):format(i, t.name, ms))
      for line in tostring(err):gmatch('[^\n]+') do
        io.stdout:write('  # ' .. line .. '\n')
      end
    end
    table.insert(results, { name = t.name, file = t.file, ok = ok, error = (not ok) and tostring(err) or nil, ms = ms })
  end
  io.stdout:write(('%d passed, %d failed\n'):format(passed, failed))
  io.stdout:flush()
  if vim.env.PYGENT_TEST_RESULTS and vim.env.PYGENT_TEST_RESULTS ~= '' then
    H.write(vim.env.PYGENT_TEST_RESULTS, vim.json.encode({ passed = passed, failed = failed, tests = results }))
  end
  return failed
end

--- Stop servers and helper processes started by the tests.
function H.shutdown()
  pcall(function()
    require('pygent.client').stop()
  end)
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  vim.wait(3000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  for _, proc in ipairs(H.processes) do
    pcall(proc.kill, proc, 15)
  end
end

return H
