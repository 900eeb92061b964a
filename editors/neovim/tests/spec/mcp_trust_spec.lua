-- A project's untrusted MCP servers are asked about (even in auto mode) with the servers listed.
local here = debug.getinfo(1, 'S').source:sub(2)
local repo = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(here)))))
local server = repo .. '/tests/mcp/servers/stdio_server.py'
local config = ('[mcp.servers.proj]\ncommand = %s\nargs = [%s]\n'):format(
  vim.json.encode(H.python),
  vim.json.encode(server)
)
local root = H.project({ ['.pygent/config.toml'] = config })
local fake = H.fake_llm({ { text = 'Trusted.' }, { text = 'Again.' } })
H.setup_plugin(fake, { mode = 'auto' })

local seen = {}
local select = vim.ui.select
vim.ui.select = function(items, opts, on_choice)
  if opts.kind ~= 'pygent_permission' then
    return select(items, opts, on_choice)
  end
  local names = {}
  for _, item in ipairs(items) do
    table.insert(names, opts.format_item(item))
  end
  table.insert(seen, { prompt = opts.prompt, names = names })
  for _, item in ipairs(items) do
    if item.optionId == 'mcp_trust' then
      return on_choice(item, 1)
    end
  end
  on_choice(nil, nil)
end

local function offered(request)
  local names = {}
  for _, tool in ipairs(request.tools or {}) do
    names[tool['function'].name] = true
  end
  return names
end

it('asks to trust the project servers, listing each command, and starts them', function()
  vim.cmd('Pygent hello')
  H.wait_idle()
  H.eq(1, #seen, 'one trust question')
  H.contains(seen[1].prompt, 'pygent wants to start the MCP servers of the project ' .. root)
  H.contains(seen[1].prompt, server)
  H.eq({ 'Trust and start', "Don't start" }, seen[1].names)
  local requests = H.fake_requests(fake)
  H.truthy(offered(requests[#requests])['mcp__proj__echo'], 'the trusted server tools are offered')
end)

it('does not ask again once trusted', function()
  vim.cmd('Pygent again')
  H.wait_idle()
  H.eq(1, #seen, 'no second question')
  H.contains(H.chat_text(), 'Again.')
end)
