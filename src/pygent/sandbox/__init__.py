"""OS confinement of the commands the shell and git tools start (Landlock on Linux, Seatbelt on macOS).

A confined command may read anywhere but write only beneath the workspace roots, the system temp
directories and ``[sandbox] writable_roots``; with ``[sandbox] network = false`` it cannot open
TCP connections. The permission engine keeps deciding *when to ask*; the sandbox makes sure that
what runs without asking cannot reach outside the workspace even if the command is not what it
looks like. Modules: :mod:`~pygent.sandbox.policy` (plain data), :mod:`~pygent.sandbox.landlock`
(Linux, also the trampoline), :mod:`~pygent.sandbox.seatbelt` (macOS profile),
:mod:`~pygent.sandbox.runtime` (support, status, argv wrapping), :mod:`~pygent.sandbox.denials`
(recognising a denied command from its output).
"""
