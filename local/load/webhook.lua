-- wrk script: every request is a new customer text message for the dev runner's webhook, signed
-- as Meta signs it (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>). Each body is
-- distinct (a wamid from the run id, the wrk thread and a counter): a repeated body would only
-- measure the duplicate path.
--
-- Settings, from the environment (scripts/bench-load.sh sets them from .env.example):
--   META_APP_SECRET          the app secret the runner verifies with
--   LOAD_PHONE_NUMBER_ID     a number the runner routes (DEMO_PHONE_NUMBER_ID)
--   LOAD_DISPLAY_PHONE_NUMBER, LOAD_WABA_ID   the rest of that number's metadata
--   LOAD_RUN_ID              keeps this run's wamids apart from an earlier run's on the same stack
--   LOAD_CUSTOMERS           how many different customers write in (default 100)
--   LOAD_WRK_JSON            where done() writes the results as JSON
--   WEBHOOK_LUA_SELFTEST=1   print HMAC test vectors and a signed sample, time the signing, exit
--
-- SHA-256 (FIPS 180-4) and HMAC (RFC 2104) are written out here with LuaJIT's `bit` library:
-- wrk embeds LuaJIT and ships no crypto module.

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local lshift, rshift, ror, tobit, tohex = bit.lshift, bit.rshift, bit.ror, bit.tobit, bit.tohex
local byte, char, format, rep, sub = string.byte, string.char, string.format, string.rep, string.sub
local concat, floor = table.concat, math.floor

-- The constants are derived rather than typed in: the first 32 bits of the fractional parts of
-- the square roots (initial state) and cube roots (round constants) of the first primes. A
-- double carries enough bits for both; the test vectors below would catch a wrong one.
local function first_primes(n)
  local primes, candidate = {}, 2
  while #primes < n do
    local prime = true
    for _, p in ipairs(primes) do
      if p * p > candidate then
        break
      end
      if candidate % p == 0 then
        prime = false
        break
      end
    end
    if prime then
      primes[#primes + 1] = candidate
    end
    candidate = candidate + 1
  end
  return primes
end

local function fraction_bits(x)
  return tobit(floor((x - floor(x)) * 2 ^ 32))
end

local PRIMES = first_primes(64)
local K = {}
for i = 1, 64 do
  local root = PRIMES[i] ^ (1 / 3)
  -- pow() may land one ulp off the true cube root; step to the double nearest it.
  root = root - (root * root * root - PRIMES[i]) / (3 * root * root)
  K[i - 1] = fraction_bits(root)
end
local IV = {}
for i = 1, 8 do
  IV[i] = fraction_bits(math.sqrt(PRIMES[i]))
end

local W = {}

-- Compresses the 64-byte block of `s` at 1-based `at` into the state H (8 words, in place).
local function compress(H, s, at)
  for i = 0, 15 do
    local b1, b2, b3, b4 = byte(s, at + 4 * i, at + 4 * i + 3)
    W[i] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
  end
  for i = 16, 63 do
    local w15, w2 = W[i - 15], W[i - 2]
    local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
    local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
    W[i] = tobit(W[i - 16] + s0 + W[i - 7] + s1)
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for i = 0, 63 do
    local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
    local ch = bxor(band(e, f), band(bnot(e), g))
    local t1 = h + S1 + ch + K[i] + W[i]
    local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
    local maj = bxor(band(a, b), band(a, c), band(b, c))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + S0 + maj)
  end
  H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
  H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

local function word_bytes(x)
  return char(band(rshift(x, 24), 255), band(rshift(x, 16), 255), band(rshift(x, 8), 255), band(x, 255))
end

-- The digest (32 raw bytes) of `prefix_len` bytes already compressed into `state`, then `msg`.
local function finish(state, prefix_len, msg)
  local H = { state[1], state[2], state[3], state[4], state[5], state[6], state[7], state[8] }
  local len = #msg
  local whole = len - len % 64
  for at = 1, whole, 64 do
    compress(H, msg, at)
  end
  local bits = (prefix_len + len) * 8
  local tail = sub(msg, whole + 1)
    .. "\128"
    .. rep("\0", (55 - len % 64) % 64)
    .. word_bytes(tobit(floor(bits / 2 ^ 32)))
    .. word_bytes(tobit(bits % 2 ^ 32))
  for at = 1, #tail, 64 do
    compress(H, tail, at)
  end
  return word_bytes(H[1]) .. word_bytes(H[2]) .. word_bytes(H[3]) .. word_bytes(H[4])
    .. word_bytes(H[5]) .. word_bytes(H[6]) .. word_bytes(H[7]) .. word_bytes(H[8])
end

local function sha256(msg)
  return finish(IV, 0, msg)
end

local function xor_bytes(s, pad)
  local out = {}
  for i = 1, #s do
    out[i] = char(bxor(byte(s, i), pad))
  end
  return concat(out)
end

-- HMAC-SHA256 keyed once: the key's inner and outer pad blocks are compressed here, so each
-- message costs only its own blocks and one more, as the webhook's verifier is keyed once too.
local function hmac_sha256(key)
  if #key > 64 then
    key = sha256(key)
  end
  key = key .. rep("\0", 64 - #key)
  local inner = { IV[1], IV[2], IV[3], IV[4], IV[5], IV[6], IV[7], IV[8] }
  local outer = { IV[1], IV[2], IV[3], IV[4], IV[5], IV[6], IV[7], IV[8] }
  compress(inner, xor_bytes(key, 0x36), 1)
  compress(outer, xor_bytes(key, 0x5c), 1)
  return function(msg)
    return finish(outer, 64, finish(inner, 64, msg))
  end
end

local function hex(s)
  local out = {}
  for i = 1, #s, 4 do
    local b1, b2, b3, b4 = byte(s, i, i + 3)
    if b4 then
      out[#out + 1] = tohex(bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4), 8)
    else
      for j = i, #s do
        out[#out + 1] = format("%02x", byte(s, j))
      end
    end
  end
  return concat(out)
end

-- Settings ------------------------------------------------------------------------------------

local function setting(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then
    return default
  end
  return value
end

local APP_SECRET = setting("META_APP_SECRET", "dev-app-secret")
local PHONE_NUMBER_ID = setting("LOAD_PHONE_NUMBER_ID", "106540352242922")
local DISPLAY_PHONE_NUMBER = setting("LOAD_DISPLAY_PHONE_NUMBER", "15550783881")
local WABA_ID = setting("LOAD_WABA_ID", "102290129340398")
local RUN_ID = setting("LOAD_RUN_ID", tostring(os.time()))
local CUSTOMERS = tonumber(setting("LOAD_CUSTOMERS", "100"))
local sign = hmac_sha256(APP_SECRET)

-- The body as Meta sends it: compact JSON, one text message with its contact. Customers are
-- fictional numbers in the 1555 range, one of CUSTOMERS per message in turn.
local function body_for(thread_id, n, now)
  local customer = format("1555%07d", n % CUSTOMERS)
  return '{"object":"whatsapp_business_account","entry":[{"id":"' .. WABA_ID
    .. '","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"'
    .. DISPLAY_PHONE_NUMBER .. '","phone_number_id":"' .. PHONE_NUMBER_ID
    .. '"},"contacts":[{"profile":{"name":"Load Customer ' .. (n % CUSTOMERS)
    .. '"},"wa_id":"' .. customer .. '"}],"messages":[{"from":"' .. customer
    .. '","id":"wamid.LOAD.' .. RUN_ID .. '.' .. thread_id .. '.' .. n
    .. '","timestamp":"' .. now .. '","type":"text","text":{"body":"Load message ' .. n
    .. ', is my order ready?"}}]},"field":"messages"}]}]}'
end

local function signed_request(thread_id, n)
  local body = body_for(thread_id, n, os.time())
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "facebookexternalua",
    ["X-Hub-Signature-256"] = "sha256=" .. hex(sign(body)),
  }, body)
end

-- Self-test -----------------------------------------------------------------------------------

local function self_test()
  -- RFC 4231 test case 2, checked here; the generated vectors are checked by the caller against
  -- another implementation (Python's hmac in scripts/bench-load.sh).
  local rfc = hex(hmac_sha256("Jefe")("what do ya want for nothing?"))
  local expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
  if rfc ~= expected then
    io.stderr:write("webhook.lua: HMAC-SHA256 self-test failed (RFC 4231 case 2)\n")
    os.exit(1)
  end
  print("rfc4231 ok")
  -- Lengths around every padding boundary, keys shorter than, equal to and longer than a block.
  local function bytes(n, seed)
    local out = {}
    for i = 1, n do
      out[i] = char((i * 131 + seed * 17) % 256)
    end
    return concat(out)
  end
  for _, key_len in ipairs({ 0, 4, 32, 63, 64, 65, 131 }) do
    for _, msg_len in ipairs({ 0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000 }) do
      local key, msg = bytes(key_len, 1), bytes(msg_len, 2)
      print(format("vector %s %s %s", hex(key), hex(msg), hex(hmac_sha256(key)(msg))))
    end
  end
  -- One request exactly as the load sends it, for the caller to verify with the app secret.
  local body = body_for(0, 1, os.time())
  print("sample " .. hex(body) .. " " .. hex(sign(body)))
  -- How many signed requests one core builds per second: the rate at which wrk would cap.
  local rounds, started = 0, os.clock()
  while os.clock() - started < 1 do
    for _ = 1, 100 do
      signed_request(0, rounds)
      rounds = rounds + 1
    end
  end
  print(format("rate %.1f %d", rounds / (os.clock() - started), #body))
  os.exit(0)
end

if os.getenv("WEBHOOK_LUA_SELFTEST") == "1" then
  self_test()
end

-- wrk callbacks -------------------------------------------------------------------------------

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

local counter = 0
statuses = {}
built = 0

function request()
  counter = counter + 1
  built = counter
  -- thread_id: set by setup() in this thread's own Lua state.
  return signed_request(thread_id, counter)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local path = os.getenv("LOAD_WRK_JSON")
  if not path then
    return
  end
  local counts, total_built = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
    total_built = total_built + (thread:get("built") or 0)
  end
  local status_fields = {}
  for status, n in pairs(counts) do
    status_fields[#status_fields + 1] = format('"%d":%d', status, n)
  end
  local e = summary.errors
  local fields = {
    format('"duration_us":%d', summary.duration),
    format('"requests":%d', summary.requests),
    format('"bytes":%d', summary.bytes),
    format('"requests_built":%d', total_built),
    format('"status_counts":{%s}', concat(status_fields, ",")),
    format('"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.timeout),
    format('"non_2xx_or_3xx":%d', e.status),
    format('"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}',
      latency.mean, latency.stdev, latency.min, latency.max, latency:percentile(50),
      latency:percentile(90), latency:percentile(99), latency:percentile(99.9)),
  }
  local file = assert(io.open(path, "w"))
  file:write("{" .. concat(fields, ",") .. "}\n")
  file:close()
end
