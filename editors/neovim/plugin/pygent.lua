-- pygent: user commands and highlight links only; everything else loads on first use.
if vim.g.loaded_pygent == 1 then
  return
end
vim.g.loaded_pygent = 1

if vim.fn.has('nvim-0.10') ~= 1 then
  vim.api.nvim_echo({ { 'pygent needs Neovim >= 0.10', 'WarningMsg' } }, true, {})
  return
end

local function hl(name, link)
  vim.api.nvim_set_hl(0, name, { link = link, default = true })
end
hl('PygentSeparator', 'FloatBorder')
hl('PygentTool', 'Special')
hl('PygentToolPending', 'Comment')
hl('PygentToolRunning', 'DiagnosticInfo')
hl('PygentToolDone', 'DiagnosticOk')
hl('PygentToolFailed', 'DiagnosticError')
hl('PygentToolRejected', 'Comment')

local command = vim.api.nvim_create_user_command

command('Pygent', function(opts)
  local range = nil
  if opts.range > 0 then
    range = { opts.line1, opts.line2 }
  end
  require('pygent').prompt(opts.args, { range = range })
end, {
  nargs = '*',
  range = true,
  complete = function(arglead, cmdline)
    return require('pygent.commands').complete_cmdline(arglead, cmdline)
  end,
  desc = 'pygent: send a prompt with the current buffer (and range) as context, or run a /command',
})

command('PygentChat', function()
  require('pygent').chat()
end, { nargs = 0, desc = 'pygent: open or focus the chat' })

command('PygentCancel', function()
  require('pygent').cancel()
end, { nargs = 0, desc = 'pygent: cancel the running turn' })

command('PygentSessions', function()
  require('pygent').sessions()
end, { nargs = 0, desc = 'pygent: pick a session and replay it in the chat' })

command('PygentMode', function(opts)
  if opts.args == '' then
    require('pygent').pick_mode()
  else
    require('pygent').set_mode(opts.args)
  end
end, {
  nargs = '?',
  complete = function()
    return require('pygent.client').mode_ids()
  end,
  desc = 'pygent: set the permission mode (no argument: pick one of the modes the server offers)',
})

command('PygentModel', function(opts)
  require('pygent').set_model(opts.args)
end, { nargs = 1, desc = 'pygent: set the model of the session (litellm name)' })
