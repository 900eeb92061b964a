-- Test runner: nvim --clean --headless -u NONE -l tests/run.lua SPEC.lua [SPEC.lua ...]
-- Puts the plugin on 'runtimepath', loads plugin/pygent.lua, runs the specs with tests/harness.lua.
local this = debug.getinfo(1, 'S').source:sub(2)
local plugin_root = vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(this, ':p'))))
vim.opt.runtimepath:prepend(plugin_root)
-- No remote-plugin providers: ftplugin/python.vim would spend seconds probing for pynvim.
for _, provider in ipairs({ 'python3', 'node', 'perl', 'ruby' }) do
  vim.g['loaded_' .. provider .. '_provider'] = 0
end
package.path = plugin_root .. '/tests/?.lua;' .. package.path
vim.cmd('filetype plugin on')
vim.cmd('runtime plugin/pygent.lua')
vim.o.swapfile = false
vim.o.shortmess = vim.o.shortmess .. 'F'

local H = require('harness')
_G.it = H.it
_G.after_each = H.after_each
_G.H = H

local specs = {}
for i = 1, #_G.arg do
  table.insert(specs, _G.arg[i])
end
if #specs == 0 then
  specs = vim.fn.globpath(plugin_root .. '/tests/spec', '*_spec.lua', false, true)
  table.sort(specs)
end
for _, spec in ipairs(specs) do
  H.current_file = vim.fn.fnamemodify(spec, ':t')
  local ok, err = pcall(dofile, spec)
  if not ok then
    H.it('load ' .. H.current_file, function()
      error(err)
    end)
  end
end
local failed = H.run()
H.shutdown()
os.exit(failed > 0 and 1 or 0)
