-- sessionlens for Neovim 0.7+: the language server on the agents' session logs (outline, hovers,
-- diagnostics, code lenses) and :SessionlensTranscript, which opens a session as a Markdown buffer.
--
--   vim.opt.runtimepath:append("/path/to/sessionlens/editors/nvim")
--   require("sessionlens").setup({
--     cmd = { "/path/to/.venv/bin/python", "-m", "sessionlens", "lsp" },   -- default: python3 -m sessionlens lsp
--     init_options = { includeHomeLogs = true, homeLogsScope = "workspace" }, -- LSP initialization options
--   })
--
-- Commands (in a session log, or anywhere with a session id):
--   :SessionlensTranscript [session-id]   the rendered session in a Markdown buffer (works for a deleted log too)
--   :SessionlensLenses                    refresh the per-turn lenses (tokens, cost, time) of the current log
local M = {}

M.config = {
  cmd = { "python3", "-m", "sessionlens", "lsp" },
  init_options = {},
  filetypes = { "jsonl" },
  lenses = true, -- show the per-turn code lenses as virtual text
}

local client_id = nil

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= "" and vim.fn.fnamemodify(name, ":p:h") or vim.fn.getcwd()
  local git = vim.fn.finddir(".git", dir .. ";")
  return git ~= "" and vim.fn.fnamemodify(git, ":p:h:h") or vim.fn.getcwd()
end

--- The running sessionlens client (started on first use).
function M.client(bufnr)
  if client_id and vim.lsp.get_client_by_id(client_id) then
    return vim.lsp.get_client_by_id(client_id)
  end
  local root = root_dir(bufnr or 0)
  client_id = vim.lsp.start_client({
    name = "sessionlens",
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ":t") } },
    init_options = M.config.init_options,
  })
  return client_id and vim.lsp.get_client_by_id(client_id) or nil
end

--- Attaches the server to a log buffer.
function M.attach(bufnr)
  local client = M.client(bufnr)
  if client then
    vim.lsp.buf_attach_client(bufnr, client.id)
  end
  return client
end

local function wait_initialized(client, ms)
  return vim.wait(ms or 20000, function() return client.initialized end, 50)
end

--- Opens the rendered transcript of the current log (or of `session_id`) in a Markdown buffer.
function M.transcript(session_id)
  local src = vim.api.nvim_get_current_buf()
  local client = M.client(src)
  if not client or not wait_initialized(client) then
    vim.notify("sessionlens: the server did not start", vim.log.levels.ERROR)
    return nil
  end
  local args = (session_id and session_id ~= "") and { session_id = session_id } or { uri = vim.uri_from_bufnr(src) }
  local resp = client.request_sync("workspace/executeCommand",
    { command = "sessionlens.renderSession", arguments = { args } }, 30000, src)
  if not resp or resp.err or not resp.result then
    local msg = resp and resp.err and resp.err.message or "no answer"
    vim.notify("sessionlens: " .. msg, vim.log.levels.ERROR)
    return nil
  end
  local buf = vim.api.nvim_create_buf(true, true)
  local lines = vim.split(resp.result.markdown or "", "\n", { plain = true })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.api.nvim_buf_set_option(buf, "buftype", "nofile")
  vim.api.nvim_buf_set_option(buf, "bufhidden", "wipe")
  vim.api.nvim_buf_set_option(buf, "modifiable", false)
  vim.api.nvim_buf_set_option(buf, "filetype", "markdown")
  pcall(vim.api.nvim_buf_set_name, buf, "sessionlens://" .. (resp.result.title or "session"):gsub("[%c/]", " "):sub(1, 80))
  vim.api.nvim_set_current_buf(buf)
  return buf
end

--- Refreshes the code lenses of a log buffer (shown as virtual text by Neovim).
-- (only once the server is attached and initialized: Neovim 0.7 never clears a refresh that had no client)
local function ready(bufnr)
  local client = client_id and vim.lsp.get_client_by_id(client_id)
  return client and client.initialized and vim.lsp.buf_is_attached(bufnr, client.id)
end

function M.lenses(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if ready(bufnr) then
    pcall(vim.lsp.codelens.refresh)
  end
  return vim.lsp.codelens.get(bufnr)
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", M.config, opts or {})
  -- Neovim 0.7 knows no jsonl filetype: give .jsonl logs one
  vim.cmd([[
    augroup sessionlens_ft
      autocmd!
      autocmd BufRead,BufNewFile *.jsonl setfiletype jsonl
    augroup END
  ]])
  local group = vim.api.nvim_create_augroup("sessionlens", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.config.filetypes,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  if M.config.lenses then
    vim.api.nvim_create_autocmd({ "BufEnter", "CursorHold", "InsertLeave" }, {
      group = group,
      pattern = "*.jsonl",
      callback = function(ev) M.lenses(ev.buf) end,
    })
  end
  vim.api.nvim_create_user_command("SessionlensTranscript", function(c) M.transcript(c.args) end,
    { nargs = "?", desc = "sessionlens: the session as a Markdown transcript" })
  vim.api.nvim_create_user_command("SessionlensLenses", function() M.lenses() end,
    { desc = "sessionlens: refresh the per-turn lenses" })
end

return M
