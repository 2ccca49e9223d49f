"""The Lua scripts :class:`~cs_sdk.state.RedisStore` registers: each runs without any other
command interleaved, so a check and the write it guards cannot be split by another server."""

from __future__ import annotations

# KEYS[1]: the user's prompt hash. ARGV: prompt id, now, max shows (-1: none), global wait,
# stop after answer (1/0), dismiss cooldown (-1: none). Mirrors ShowRules.allows, and never
# shows a prompt to an opted-out user (the "optout" field of the same hash).
TRY_SHOW = """
local key, prompt, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local max_shows, wait, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
if redis.call('HEXISTS', key, 'optout') == 1 then return 0 end
local last = redis.call('HGET', key, 'last')
if last and wait > 0 and now - tonumber(last) < wait then return 0 end
local shows = tonumber(redis.call('HGET', key, 's:' .. prompt) or '0')
if max_shows >= 0 and shows >= max_shows then return 0 end
if ARGV[5] == '1' and redis.call('HEXISTS', key, 'a:' .. prompt) == 1 then return 0 end
if cooldown >= 0 then
  local dismissed = redis.call('HGET', key, 'd:' .. prompt)
  if dismissed and now - tonumber(dismissed) < cooldown then return 0 end
end
redis.call('HSET', key, 's:' .. prompt, shows + 1, 'l:' .. prompt, ARGV[2], 'last', ARGV[2])
return 1
"""

# KEYS[1]: the user's membership hash, KEYS[2]: their prompt hash (an opted-out user's is
# flagged: nothing is stored). ARGV: pilot, encoded cohort, enrolled_at.
# A membership is stored as "<enrolled_at>|<cohort>" where the cohort part is "" for none
# and "=<cohort>" otherwise, so Lua compares it as plain text. Returns the stored value and
# 1 when it changed; a new cohort keeps the first enrolment time.
PUT_MEMBERSHIP = """
if redis.call('HEXISTS', KEYS[2], 'optout') == 1 then return {false, 0} end
local old = redis.call('HGET', KEYS[1], ARGV[1])
local enrolled_at = ARGV[3]
if old then
  local sep = string.find(old, '|', 1, true)
  if string.sub(old, sep + 1) == ARGV[2] then return {old, 0} end
  enrolled_at = string.sub(old, 1, sep - 1)
end
local value = enrolled_at .. '|' .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], value)
return {value, 1}
"""

# KEYS[1]: the user's membership hash, KEYS[2]: their finished periods. ARGV: pilot, exit
# time. Moves the membership to the finished periods as "<exited_at>|<membership value>" and
# returns the removed value, or false.
REMOVE_MEMBERSHIP = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. old)
end
return old
"""

# KEYS[1]: the user's answers (response id -> JSON), KEYS[2]: their times (a sorted set).
# ARGV: response id, answered_at, the answer's JSON, answers kept, expiry in seconds. Keeps
# the newest answers (ties by response id, as answer_order) and drops the rest in one step.
ADD_ANSWER = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
"""


# KEYS[1]: the hash to write, KEYS[2]: the user's prompt hash. ARGV: field, value, and
# "nx" to keep an existing value. Nothing is written for an opted-out user.
SET_UNLESS_OPTED_OUT = """
if redis.call('HEXISTS', KEYS[2], 'optout') == 1 then return 0 end
if ARGV[3] == 'nx' then return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
