--- "Did you mean": the known name closest to a misspelled one.
local M = {}

-- Edits between `a` and `b` (insert, delete, substitute, swap two neighbours), case-insensitive.
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local d = {}
  for i = 0, #a do
    d[i] = { [0] = i }
  end
  for j = 0, #b do
    d[0][j] = j
  end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:sub(i, i) == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end
M.distance = distance

--- The candidate closest to `name` (few edits for its length), or nil when none is close.
---@param name string
---@param candidates string[]
---@return string|nil
function M.closest(name, candidates)
  local best, best_d = nil, math.huge
  -- A third of the name's length, at least 2: `modle` -> `model`, `maxTokenLine` -> `maxTokensLine`.
  local limit = math.max(2, math.floor(#name / 3))
  for _, c in ipairs(candidates) do
    local d = distance(name, c)
    if d < best_d or (d == best_d and best and c < best) then
      best, best_d = c, d
    end
  end
  if best_d <= limit then
    return best
  end
  return nil
end

--- "unknown <what> '<prefix><name>'" with " (did you mean '<closest>'?)" when one is close.
function M.unknown(what, name, candidates, prefix)
  local near = M.closest(name, candidates)
  local msg = string.format("unknown %s '%s%s'", what, prefix or "", name)
  if near then
    msg = msg .. string.format(" (did you mean '%s'?)", near)
  end
  return msg
end

return M
