-- POSTs the full sign form, each request with an email address no one has used yet.
--
--   BENCH_CSRF_TOKEN=... BENCH_RUN=r1 \
--     wrk -t2 -c16 -d10s -s bench/sign.lua http://127.0.0.1:8000/p/SLUG/sign
--
-- The sign form's token names the petition, not a visitor, and stays good for a day, so one
-- page fetch gives the token for the whole run; bench/run.py fetches it. BENCH_COOKIE, when
-- set, is sent as the Cookie header.
-- BENCH_RUN keeps addresses unique across runs on the same database.

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "wrk_report.lua")

local function urlencode(text)
   return (text:gsub("[^%w%-%._~]", function(char)
      return string.format("%%%02X", string.byte(char))
   end))
end

local token = urlencode(os.getenv("BENCH_CSRF_TOKEN") or "")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local headers = {
   ["Content-Type"] = "application/x-www-form-urlencoded",
   ["Cookie"] = os.getenv("BENCH_COOKIE") or "",
}

function request()
   sent = sent + 1
   local email = string.format("bench-%s-%d-%d@example.org", run, id, sent)
   local body = "csrf_token=" .. token .. "&kind=individual&name=Bench+Signer&email=" ..
      urlencode(email) .. "&country=PE&public=y"
   return wrk.format("POST", nil, headers, body)
end
