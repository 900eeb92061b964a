-- The pygent chat buffer: Markdown highlighting (treesitter when available, else the syntax file).
if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = 1
vim.bo.commentstring = '<!-- %s -->'
if not pcall(vim.treesitter.start, 0, 'markdown') then
  vim.bo.syntax = 'markdown'
end
vim.b.undo_ftplugin = 'setlocal commentstring< syntax<'
