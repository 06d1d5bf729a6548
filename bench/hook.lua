-- wrk script: every request posts a webhook for a different invoice, so each one is a
-- new ledger row (the real intake path), not a repeat.
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0

request = function()
  counter = counter + 1
  local body = '{"url":"__BASE__t' .. tid .. '-' .. counter .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
