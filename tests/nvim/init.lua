-- Headless Neovim 0.7 as a real LSP client of git-poison-lsp (driven by
-- tests/test_lsp_nvim.py). It opens GP_FILE, waits for the diagnostics, hovers, runs
-- the quick fix through Neovim's own code-action path (vim.lsp.buf.code_action ->
-- vim.ui.select -> workspace/executeCommand), answers the server's confirmation,
-- waits for the warning to go, and writes what it saw to GP_OUT as JSON.
local out = assert(os.getenv("GP_OUT"))
local file = assert(os.getenv("GP_FILE"))
local results = { asked = {}, offered = {}, steps = {} }

local function save()
  local f = assert(io.open(out, "w"))
  f:write(vim.fn.json_encode(results))
  f:close()
end

local function step(name)
  table.insert(results.steps, name)
end

local function diagnostics(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(list, { lnum = d.lnum, end_lnum = d.end_lnum, message = d.message,
                         source = d.source, severity = d.severity })
  end
  return list
end

-- The server asks before it cherry-picks: say yes, and remember the question.
vim.lsp.handlers["window/showMessageRequest"] = function(_, params)
  table.insert(results.asked, { message = params.message,
    actions = vim.tbl_map(function(a) return a.title end, params.actions or {}) })
  for _, action in ipairs(params.actions or {}) do
    if action.title == "Cherry-pick" then
      return action
    end
  end
  return vim.NIL
end

-- The user picks the cherry-pick quick fix from the code-action menu.
vim.ui.select = function(items, opts, on_choice)
  for i, item in ipairs(items) do
    local title = opts.format_item and opts.format_item(item) or tostring(item)
    table.insert(results.offered, title)
  end
  for i, item in ipairs(items) do
    local title = opts.format_item and opts.format_item(item) or ""
    if title:find("Cherry%-pick cure") then
      step("chose " .. title)
      return on_choice(item, i)
    end
  end
  on_choice(nil, nil)
end

local function main()
  local client_id = vim.lsp.start_client({
    name = "git-poison",
    cmd = { assert(os.getenv("GP_PYTHON")), "-m", "git_poison_lsp", "--stdio" },
    root_dir = assert(os.getenv("GP_ROOT")),
  })
  assert(client_id, "the server did not start")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(bufnr, client_id)
  step("attached")

  if not vim.wait(60000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
    error("no diagnostics arrived")
  end
  results.before = diagnostics(bufnr)
  step("diagnostics")

  local first = results.before[1]
  vim.api.nvim_win_set_cursor(0, { first.lnum + 1, 0 })
  -- Hover, as `K` asks it.
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover",
    vim.lsp.util.make_position_params(), 30000)
  for _, response in pairs(hover or {}) do
    if response.result and response.result.contents then
      results.hover = response.result.contents.value
    end
  end
  step("hover")
  vim.lsp.buf.code_action()
  step("code action requested")

  if not vim.wait(60000, function() return #vim.diagnostic.get(bufnr) == 0 end, 50) then
    error("the warning did not go away")
  end
  results.after = diagnostics(bufnr)
  step("diagnostics cleared")
  -- As an editor does on focus: reload what git changed on disk.
  vim.cmd("edit!")
  results.buffer = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
end

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    local ok, err = pcall(main)
    if not ok then
      results.error = tostring(err)
    end
    save()
    vim.cmd("qa!")
  end,
})
