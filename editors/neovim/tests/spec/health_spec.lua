-- :checkhealth pygent reports Neovim, the executable and its version, the server start, the API key.
H.project({})
local fake = H.fake_llm({})

local function checkhealth()
  vim.cmd('checkhealth pygent')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd('bwipeout!')
  return table.concat(lines, '\n')
end

it(':checkhealth pygent is all OK with a working server and a key', function()
  H.setup_plugin(fake)
  local out = checkhealth()
  H.contains(out, 'OK Neovim ' .. vim.version().major .. '.' .. vim.version().minor)
  H.contains(out, 'OK executable: ')
  H.contains(out, 'OK version: ')
  H.contains(out, 'OK server starts: pygent')
  H.contains(out, 'OK API key configured')
  H.not_contains(out, 'ERROR')
end)

it(':checkhealth pygent explains a missing executable', function()
  require('pygent').setup({ cmd = { 'definitely-not-pygent-xyz', 'serve' } })
  local out = checkhealth()
  H.contains(out, 'ERROR "definitely-not-pygent-xyz" is not an executable')
  H.contains(out, 'pipx install pygent')
end)

it(':checkhealth pygent reports a missing API key', function()
  H.setup_plugin(fake, { cmd_env = { PYGENT_API_KEY = '', PYGENT_MODEL = 'anthropic/claude-sonnet-4-5' } })
  local saved = vim.env.ANTHROPIC_API_KEY
  vim.env.ANTHROPIC_API_KEY = nil
  local out = checkhealth()
  vim.env.ANTHROPIC_API_KEY = saved
  H.contains(out, 'ERROR no API key configured')
  H.contains(out, 'ANTHROPIC_API_KEY')
end)

it('a server that cannot start is reported, not raised', function()
  require('pygent').setup({ cmd = { H.python, '-c', 'import sys; sys.exit(3)', 'serve' } })
  local out = checkhealth()
  H.contains(out, 'ERROR the server does not start')
end)
