-- vmseal-auth.lua - Dovecot passdb and userdb in Lua that ask vmsealed
-- through its auth socket: the fallback for a Dovecot without vmseal's
-- native driver (libauthdb_vmseal.so) and without checkpassword (removed in
-- Dovecot 2.4).  Needs dovecot-auth-lua and lua-socket (socket.unix).
--
-- Dovecot 2.4:
--   passdb lua {
--     lua_file = /usr/share/vmseal/vmseal-auth.lua
--     lua_settings {
--       socket = /run/vmseal/auth
--       timeout = 5
--     }
--   }
--   userdb lua {
--     lua_file = /usr/share/vmseal/vmseal-auth.lua
--     lua_settings {
--       socket = /run/vmseal/auth
--     }
--   }
-- Dovecot 2.3 passes no settings to a script: a small file sets the global
-- vmseal_settings and runs this one,
--   vmseal_settings = { socket = "/run/vmseal/auth", timeout = "5" }
--   dofile("/usr/share/vmseal/vmseal-auth.lua")
-- named by "driver = lua" and "args = file=THAT-FILE cache_key=" (no cache
-- key: see "cache" below).  See doc/dovecot-lua.md.
--
-- Settings: socket (default /run/vmseal/auth), timeout (seconds for the
-- connect and for each wait, 1..300, default 5), mail_fields ("split": the
-- userdb field mail, a 2.3 mail location such as mbox:~/mail:INBOX=/m/%n,
-- becomes 2.4's mail_driver, mail_path, mail_inbox_path, ...; "keep": passed
-- on as mail; default: split on 2.4, keep on 2.3).
--
-- Protocol (lib/authproto.h): one message is a netstring whose payload is a
-- sequence of netstrings; requests "verify" LOGIN PASSWORD SERVICE
-- REMOTE_IP LOCAL_IP SECURED and "lookup" NAME SERVICE; replies "ok" USER
-- FIELD..., "fail" [REASON], "nouser", "disabled", "temp" REASON.  Every
-- length read from the socket is capped before anything is read or kept.
--
-- Results: "ok" logs in (the canonical user replaces the login, so mail is
-- filed under it; the userdb fields travel as userdb_* fields, prefetch
-- works); "fail" is a wrong password; "disabled" a disabled user; "nouser"
-- an unknown user; "temp" (vmsealed sealed, store error, overload), an
-- unreachable or silent vmsealed and any malformed reply are an internal
-- failure, which Dovecot answers as a temporary one - never "unknown
-- user".  Only the known userdb fields home, uid, gid, mail and quota_rule
-- are passed on, and mail_crypt's keys (below): a reply can never set a
-- passdb field with a meaning for Dovecot (nopassword, proxy, allow_nets,
-- ...).
--
-- Mail keys (doc/mail-crypt.md): mail_crypt_save_version and
-- mail_crypt_global_public_key pass with every "ok";
-- mail_crypt_global_private_key only with the "ok" of a verified password
-- (vmsealed sends it nowhere else; the script drops it anywhere else).  On
-- Dovecot 2.4 they become its settings, as the native driver makes them:
-- crypt_write_algorithm = aes-256-gcm-sha256 (save version 2),
-- crypt_global_public_key_file = inline:KEY, crypt_global_private_key =
-- vmseal and crypt_global_private_key/vmseal/crypt_private_key_file =
-- inline:KEY.
--
-- Connections: one per auth process (Dovecot runs Lua passdbs and userdbs
-- in auth-worker processes, one request at a time), kept for the next
-- request; a reused connection that fails is retried once on a fresh one
-- (vmsealed was restarted), a timeout is not.
--
-- Cache: the script has no auth_passdb_get_cache_key, so Dovecot 2.4
-- caches nothing from it; on 2.3 "cache_key=" (empty) turns the default
-- cache key off.  With a cache, a password change, a disabled user or a
-- seal would act only when the entry expires.
--
-- Security: the password is never logged nor kept after the request; Lua
-- strings cannot be wiped, so the request frame that carries it stays in
-- the Lua heap until the collector reuses the memory (the native driver
-- wipes its copies).  A lookup without password (doveadm auth lookup)
-- returns a locked password ({CRYPT}*), never "nopassword", so that no
-- passdb cache can ever hold an entry that accepts any password.

require("socket")
local unix = require("socket.unix")

-- lib/authproto.h and lib/names.h
local AUTH_REQUEST_MAX = 4096
local AUTH_REPLY_MAX = 16384
local AUTH_FIELD_MAX = 1024
local AUTH_FIELDS_MAX = 16
local NAME_BUF = 575            -- NAME_ADDRESS_MAX + NAME_LOGIN_MAX + 2
local PW_PASSWORD_MAX = 1024
local TEXT_MAX = 63             -- service and IP items (64-byte buffers)
local REASON_MAX = 255

local USERDB_FIELDS = { home = true, uid = true, gid = true, mail = true,
    quota_rule = true, mail_crypt_save_version = true,
    mail_crypt_global_public_key = true,
    mail_crypt_global_private_key = true }
local PRIVATE_KEY_FIELD = "mail_crypt_global_private_key"

local conf = {
	socket = "/run/vmseal/auth",
	timeout = 5,
	split_mail = false,
	dovecot24 = false,
}
local conn = nil                -- the kept connection

local function set_conf(t)
	if type(t) ~= "table" then
		return
	end
	if t.socket ~= nil then
		if type(t.socket) ~= "string" or t.socket == "" or
		    #t.socket > 107 then
			error("vmseal: socket: a path of 1..107 bytes")
		end
		conf.socket = t.socket
	end
	if t.timeout ~= nil then
		local n = tonumber(t.timeout)
		if n == nil or n < 1 or n > 300 or n ~= math.floor(n) then
			error("vmseal: timeout: 1..300 seconds")
		end
		conf.timeout = n
	end
	if t.mail_fields ~= nil then
		if t.mail_fields == "split" then
			conf.split_mail = true
		elseif t.mail_fields == "keep" then
			conf.split_mail = false
		else
			error("vmseal: mail_fields: split or keep")
		end
	end
end

-- Dovecot 2.4 calls script_init(settings) with a table (lua_settings);
-- 2.3 calls it without arguments and wants 0 back.
function script_init(args)
	local dovecot24 = type(args) == "table"
	conf.split_mail = dovecot24
	conf.dovecot24 = dovecot24
	set_conf(vmseal_settings)
	if dovecot24 then
		set_conf(args)
	end
	return 0
end

function script_deinit()
	if conn ~= nil then
		conn:close()
		conn = nil
	end
end

-- --- framing ---

local function ns(s)
	return #s .. ":" .. s .. ","
end

local function frame(items)
	local inner = {}
	for i = 1, #items do
		inner[i] = ns(items[i])
	end
	return ns(table.concat(inner))
end

-- Printable ASCII and anything from 0x80 on (UTF-8); no control character.
local function is_text(s)
	return not s:find("[%z\1-\31\127]")
end

-- Split payload (a sequence of netstrings filling it exactly) into at most
-- max_items items of at most max_len bytes; nil, why on any error.
local function split(payload, max_items, max_len)
	local items, pos, n = {}, 1, #payload
	while pos <= n do
		if #items >= max_items then
			return nil, "too many items"
		end
		local digits = payload:match("^%d+", pos)
		if digits == nil or #digits > 5 or
		    (#digits > 1 and digits:sub(1, 1) == "0") then
			return nil, "malformed length"
		end
		local len = tonumber(digits)
		if len > max_len then
			return nil, "item too long"
		end
		local colon = pos + #digits
		if payload:sub(colon, colon) ~= ":" then
			return nil, "no ':'"
		end
		local last = colon + len
		if last + 1 > n or payload:sub(last + 1, last + 1) ~= "," then
			return nil, "no ','"
		end
		items[#items + 1] = payload:sub(colon + 1, last)
		pos = last + 2
	end
	return items
end

-- --- the connection ---

local function connect()
	local c = unix.stream and unix.stream() or unix()
	if c == nil then
		return nil, "no socket"
	end
	c:settimeout(conf.timeout)
	local ok, err = c:connect(conf.socket)
	if not ok then
		c:close()
		return nil, "connect " .. conf.socket .. ": " .. tostring(err)
	end
	return c
end

-- A kept connection has nothing to read while idle; if it has (vmsealed
-- closed it, or stray bytes), it is dropped.
local function idle_ok(c)
	c:settimeout(0)
	local data, err, partial = c:receive(1)
	c:settimeout(conf.timeout)
	return data == nil and err == "timeout" and (partial == nil or
	    partial == "")
end

-- One reply message: nil, why on any error (the connection is then bad).
local function receive_reply(c)
	local digits = ""
	while true do
		local ch, err = c:receive(1)
		if ch == nil then
			return nil, "receive: " .. tostring(err), err == "timeout"
		end
		if ch == ":" then
			break
		end
		if not ch:match("%d") or #digits >= 5 or digits == "0" then
			return nil, "malformed reply length"
		end
		digits = digits .. ch
	end
	if digits == "" then
		return nil, "malformed reply length"
	end
	local len = tonumber(digits)
	if len > AUTH_REPLY_MAX then
		return nil, "reply too long"
	end
	local body, err = c:receive(len + 1)
	if body == nil then
		return nil, "receive: " .. tostring(err), err == "timeout"
	end
	if body:sub(-1) ~= "," then
		return nil, "malformed reply"
	end
	local items, why = split(body:sub(1, len), AUTH_FIELDS_MAX + 2,
	    AUTH_FIELD_MAX)
	if items == nil then
		return nil, "malformed reply: " .. why
	end
	return items
end

-- Send one request, read its reply; a kept connection that fails (not by a
-- timeout) is tried once more on a fresh one.
local function call(items)
	local msg = frame(items)
	if #msg > AUTH_REQUEST_MAX + 16 then
		return nil, "request too long"
	end
	for attempt = 1, 2 do
		local reused = false
		if conn ~= nil and idle_ok(conn) then
			reused = true
		else
			if conn ~= nil then
				conn:close()
			end
			local err
			conn, err = connect()
			if conn == nil then
				return nil, err
			end
		end
		local ok, err = conn:send(msg)
		local reply, timed_out
		if ok then
			reply, err, timed_out = receive_reply(conn)
		else
			err = "send: " .. tostring(err)
			timed_out = err == "send: timeout"
		end
		if reply ~= nil then
			return reply
		end
		conn:close()
		conn = nil
		if not reused or timed_out then
			return nil, err
		end
	end
	return nil, "no reply"
end

-- --- requests and replies ---

local function item_or_empty(s)
	if type(s) ~= "string" or #s > TEXT_MAX or not is_text(s) then
		return ""
	end
	return s
end

local function login_ok(s)
	return type(s) == "string" and s ~= "" and #s < NAME_BUF and
	    is_text(s)
end

local function service_of(req)
	return item_or_empty(req.protocol or req.service)
end

local function reason_of(items)
	local r = items[2] or ""
	if #r > REASON_MAX or not is_text(r) then
		return "(malformed reason)"
	end
	return r
end

-- 2.3's mail location FORMAT:PATH[:KEY=VALUE...] as 2.4 settings.
local MAIL_KEYS = {
	INBOX = "mail_inbox_path", INDEX = "mail_index_path",
	INDEXPVT = "mail_index_private_path", CONTROL = "mail_control_path",
	VOLATILEDIR = "mail_volatile_path", ALT = "mail_alt_path",
	LAYOUT = "mailbox_list_layout",
}
-- %n %u %d %h and %% of a 2.3 location, expanded here: Dovecot 2.4 does
-- not expand %variables in the values a userdb returns.  A name that
-- could leave its folder ("/", "." or "..") is refused.
local function path_safe(s)
	return s ~= "" and s ~= "." and s ~= ".." and not s:find("/", 1, true)
end

local function mail_vars(s, user, home)
	local local_part, domain = user:match("^([^@]*)@(.*)$")
	local vars = { n = local_part or user, u = user, d = domain or "",
	    h = home, ["%"] = "%" }
	local bad = nil
	local out = s:gsub("%%(.?)", function(v)
		local x = vars[v]
		if x == nil or (v ~= "%" and v ~= "h" and not path_safe(x)) then
			bad = "%" .. v
			return ""
		end
		return x
	end)
	if bad ~= nil then
		return nil, bad
	end
	return out
end

local function split_mail(loc, fields, user, home)
	local parts = {}
	for p in (loc .. ":"):gmatch("([^:]*):") do
		parts[#parts + 1] = p
	end
	local driver, path = parts[1], parts[2]
	if driver == nil or not driver:match("^%l[%l%d]*$") then
		return nil, "mail: no mailbox format"
	end
	fields.mail_driver = driver
	if path ~= nil and path ~= "" then
		local v, bad = mail_vars(path, user, home)
		if v == nil then
			return nil, "mail: cannot expand " .. bad .. " in the path"
		end
		fields.mail_path = v
	end
	for i = 3, #parts do
		local k, v = parts[i]:match("^(%u+)=(.*)$")
		local name = k and MAIL_KEYS[k]
		if name == nil then
			return nil, "mail: key not known to this script: " ..
			    item_or_empty(parts[i]:sub(1, 40))
		end
		local x, bad = mail_vars(v, user, home)
		if x == nil then
			return nil, "mail: cannot expand " .. bad .. " in " .. k
		end
		fields[name] = x
	end
	return true
end

-- mail_crypt's 2.3 fields as 2.4's settings (the native driver's
-- vmseal_crypt_setting()).
local function crypt_settings(out)
	local v = out.mail_crypt_save_version
	local pub = out.mail_crypt_global_public_key
	local priv = out[PRIVATE_KEY_FIELD]
	out.mail_crypt_save_version = nil
	out.mail_crypt_global_public_key = nil
	out[PRIVATE_KEY_FIELD] = nil
	if v == "2" then
		out.crypt_write_algorithm = "aes-256-gcm-sha256"
	end
	if pub ~= nil then
		out.crypt_global_public_key_file = "inline:" .. pub
	end
	if priv ~= nil then
		out.crypt_global_private_key = "vmseal"
		out["crypt_global_private_key/vmseal/crypt_private_key_file"] =
		    "inline:" .. priv
	end
end

-- The fields of an "ok" reply for Dovecot: nil, why if malformed.
-- verified: the answer to a verified password (it alone may carry the
-- mail private key).
local function reply_fields(items, req, passdb, verified)
	local user = items[2]
	if not login_ok(user) then
		return nil, "malformed user in reply"
	end
	local fields, prefix = { user = user }, passdb and "userdb_" or ""
	local out = {}
	for i = 3, #items do
		local name, value = items[i]:match("^([^=]+)=(.*)$")
		if name == nil or not is_text(items[i]) then
			return nil, "malformed field in reply"
		end
		if not USERDB_FIELDS[name] then
			req:log_debug("vmseal: ignoring unknown field " ..
			    item_or_empty(name))
		elseif name ~= PRIVATE_KEY_FIELD or verified then
			out[name] = value
		end
	end
	if conf.dovecot24 then
		crypt_settings(out)
	end
	if out.mail ~= nil and conf.split_mail then
		local mail = out.mail
		out.mail = nil
		local ok, why = split_mail(mail, out, user, out.home or "")
		if not ok then
			return nil, why
		end
	end
	for k, v in pairs(out) do
		fields[prefix .. k] = v
	end
	return fields
end

-- The text of an internal failure, which Dovecot logs (as an error) with
-- the request: "temp" REASON, or what went wrong on the socket.
local function failure(items, err)
	if items ~= nil and items[1] == "temp" and #items == 2 then
		return "vmseal: temporary failure: " .. reason_of(items)
	elseif items ~= nil then
		return "vmseal: unexpected reply " .. item_or_empty(items[1]) ..
		    " (" .. #items .. " items)"
	end
	return "vmseal: " .. tostring(err)
end

local function lookup(req)
	if not login_ok(req.user) then
		return nil, "nouser"
	end
	return call({ "lookup", req.user, service_of(req) })
end

-- --- passdb ---

function auth_password_verify(req, pass)
	local P = dovecot.auth
	if not login_ok(req.user) then
		-- no such login can exist (vmsealed refuses it too)
		return P.PASSDB_RESULT_USER_UNKNOWN, "invalid login name"
	end
	if type(pass) ~= "string" or #pass > PW_PASSWORD_MAX or
	    pass:find("%z") then
		return P.PASSDB_RESULT_PASSWORD_MISMATCH, "invalid password"
	end
	local secured = (req.secured ~= nil and req.secured ~= "") and "1" or
	    "0"
	local items, err = call({ "verify", req.user, pass, service_of(req),
	    item_or_empty(req.remote_ip), item_or_empty(req.local_ip),
	    secured })
	pass = nil
	local r = items and items[1]
	if r == "ok" then
		local fields, why = reply_fields(items, req, true, true)
		if fields == nil then
			return P.PASSDB_RESULT_INTERNAL_FAILURE, "vmseal: " .. why
		end
		return P.PASSDB_RESULT_OK, fields
	elseif r == "fail" and (#items == 1 or #items == 2) then
		if #items == 2 and items[2] ~= "" then
			-- e.g. "throttled": refused without a password check
			req:log_info("vmseal: login refused: " ..
			    reason_of(items))
		end
		return P.PASSDB_RESULT_PASSWORD_MISMATCH, "password mismatch"
	elseif r == "disabled" and #items == 1 then
		req:log_info("vmseal: user is disabled")
		return P.PASSDB_RESULT_USER_DISABLED, "user is disabled"
	elseif r == "nouser" and #items == 1 then
		return P.PASSDB_RESULT_USER_UNKNOWN, "unknown user"
	end
	-- "temp", no answer, or a malformed one: never "unknown user"
	return P.PASSDB_RESULT_INTERNAL_FAILURE, failure(items, err)
end

-- A passdb lookup that authenticates nothing (doveadm auth lookup, a PASS
-- lookup on the auth-master socket): the user's fields and a password no
-- password matches.  Mechanisms that need the stored secret (CRAM-MD5,
-- SCRAM, ...) get nothing usable: vmseal never hands out hashes.
function auth_passdb_lookup(req)
	local P = dovecot.auth
	local items, err = lookup(req)
	local r = items and items[1]
	if err == "nouser" or (r == "nouser" and #items == 1) then
		return P.PASSDB_RESULT_USER_UNKNOWN, "unknown user"
	elseif r == "ok" then
		local fields, why = reply_fields(items, req, true, false)
		if fields == nil then
			return P.PASSDB_RESULT_INTERNAL_FAILURE, "vmseal: " .. why
		end
		fields.password = "{CRYPT}*"
		return P.PASSDB_RESULT_OK, fields
	end
	return P.PASSDB_RESULT_INTERNAL_FAILURE, failure(items, err)
end

-- --- userdb ---

function auth_userdb_lookup(req)
	local P = dovecot.auth
	local items, err = lookup(req)
	local r = items and items[1]
	if err == "nouser" or (r == "nouser" and #items == 1) then
		return P.USERDB_RESULT_USER_UNKNOWN, "unknown user"
	elseif r == "ok" then
		local fields, why = reply_fields(items, req, false, false)
		if fields == nil then
			return P.USERDB_RESULT_INTERNAL_FAILURE, "vmseal: " .. why
		end
		return P.USERDB_RESULT_OK, fields
	end
	return P.USERDB_RESULT_INTERNAL_FAILURE, failure(items, err)
end
