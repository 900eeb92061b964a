-- Without the plugin: a plain vim.lsp.start client works through the LSP fallbacks
-- (workspace/executeCommand pygent.prompt; permission as window/showMessageRequest).
local root = H.project({})
local fake = H.fake_llm({
  { match = 'say hi', respond = { text = 'Hi from a bare client.' } },
  { match = 'touch', respond = { tool_calls = { { name = 'shell', arguments = { command = 'echo bare > bare.txt' } } } } },
})

local client_id = vim.lsp.start({
  name = 'pygent-bare',
  cmd = { H.python, '-m', 'pygent', 'serve' },
  cmd_env = { PYGENT_MODEL = 'openai/fake-model', PYGENT_API_BASE = fake.base_url, PYGENT_API_KEY = 'sk-fake' },
  root_dir = root,
}, { attach = false })

local function execute(args)
  local client = assert(vim.lsp.get_client_by_id(client_id))
  H.wait_for(function()
    return client.initialized
  end, 'the bare client to initialize')
  local res = nil
  client:request('workspace/executeCommand', { command = 'pygent.prompt', arguments = args }, function(err, result)
    res = { err = err, result = result }
  end)
  H.wait_for(function()
    return res
  end, 'the executeCommand answer')
  return res
end

it('workspace/executeCommand pygent.prompt runs a turn and answers the text', function()
  local res = execute({ 'say hi' })
  H.eq(nil, res.err)
  H.eq('end_turn', res.result.stopReason)
  H.contains(res.result.text, 'Hi from a bare client.')
end)

it('a permission arrives as window/showMessageRequest, answered through vim.ui.select', function()
  local select = vim.ui.select
  local titles = nil
  vim.ui.select = function(items, opts, on_choice)
    titles = vim.tbl_map(opts.format_item, items)
    for _, item in ipairs(items) do
      if item.title == 'Allow once' then
        return on_choice(item)
      end
    end
  end
  local ok, res = pcall(execute, { 'touch a file' })
  vim.ui.select = select
  assert(ok, res)
  H.eq({ 'Allow once', 'Allow always', 'Reject once', 'Reject always' }, titles)
  H.eq('bare\n', H.read(root .. '/bare.txt'))
end)

it('bad input gets a clear error and the server keeps serving', function()
  local res = execute({})
  H.truthy(res.err, 'an error for a missing prompt text')
  H.contains(res.err.message, 'prompt text is required')
  H.eq('end_turn', execute({ 'say hi again' }).result.stopReason)
end)
