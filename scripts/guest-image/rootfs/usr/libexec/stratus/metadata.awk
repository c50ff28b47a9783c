# Reads OpenStack's meta_data.json (JSON, on stdin or as the file argument) without jq (slow to start under TCG):
# prints shell assignments md_uuid=, md_name=, md_hostname=, md_az= and md_admin_pass= (single-quoted) and writes
# the public keys (public_keys' values, then keys[].data; each line of each, trailing blanks removed, without
# duplicates) one a line to the file named by -v keys=FILE. Exits 1 on input that is not a JSON object.
function fail() {
  bad = 1
  exit 1
}
function ws() {
  while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++
}
function hex(h, i, v) {
  v = 0
  h = tolower(h)
  for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
  return v
}
# The UTF-8 bytes of code point c (lone surrogates as they are).
function utf8(c) {
  if (c < 128) return sprintf("%c", c)
  if (c < 2048) return sprintf("%c%c", 192 + int(c / 64), 128 + c % 64)
  return sprintf("%c%c%c", 224 + int(c / 4096), 128 + int(c / 64) % 64, 128 + c % 64)
}
# A string at pos (its opening quote): returns its value, pos after its closing quote.
function str(out, c, rest) {
  pos++
  out = ""
  while (pos <= n) {
    c = substr(s, pos, 1)
    if (c == "\"") {
      pos++
      return out
    }
    if (c == "\\") {
      c = substr(s, pos + 1, 1)
      pos += 2
      if (c == "n") out = out "\n"
      else if (c == "t") out = out "\t"
      else if (c == "r") out = out "\r"
      else if (c == "b" || c == "f") out = out " "
      else if (c == "u") {
        out = out utf8(hex(substr(s, pos, 4)))
        pos += 4
      } else out = out c
      continue
    }
    rest = substr(s, pos, 256)
    if (match(rest, /^[^"\\]+/)) {
      out = out substr(rest, 1, RLENGTH)
      pos += RLENGTH
    } else fail()
  }
  fail()
}
function value(path, c, k, i) {
  ws()
  c = substr(s, pos, 1)
  if (c == "{" || c == "[") {
    pos++
    ws()
    if (substr(s, pos, 1) == (c == "{" ? "}" : "]")) {
      pos++
      return
    }
    i = 0
    while (1) {
      ws()
      if (c == "{") {
        if (substr(s, pos, 1) != "\"") fail()
        k = str()
        ws()
        if (substr(s, pos, 1) != ":") fail()
        pos++
      } else k = i++
      value(path "/" k)
      ws()
      k = substr(s, pos, 1)
      pos++
      if (k == (c == "{" ? "}" : "]")) return
      if (k != ",") fail()
    }
  }
  if (c == "\"") {
    found(path, str(), 1)
    return
  }
  if (match(substr(s, pos, 64), /^(true|false|null|-?[0-9][0-9.eE+-]*)/)) {
    found(path, substr(s, pos, RLENGTH), 0)
    pos += RLENGTH
    return
  }
  fail()
}
function found(path, v, isstr, m, i, line) {
  if (path ~ /^\/(uuid|name|hostname|availability_zone|admin_pass)$/ && isstr) md[substr(path, 2)] = v
  else if ((path ~ /^\/public_keys\/[^\/]*$/ || path ~ /^\/keys\/[0-9]+\/data$/) && isstr) {
    m = split(v, line, "\n")
    for (i = 1; i <= m; i++) {
      sub(/[ \t\r]+$/, "", line[i])
      if (line[i] != "" && !(line[i] in seen)) {
        seen[line[i]] = 1
        order[++nkeys] = line[i]
      }
    }
  }
}
function q(v) {
  gsub(/'/, "'\\''", v)
  return "'" v "'"
}
{ s = s $0 "\n" }
END {
  if (bad) exit 1
  n = length(s)
  pos = 1
  ws()
  if (substr(s, pos, 1) != "{") exit 1
  value("")
  if (bad) exit 1
  printf "md_uuid=%s md_name=%s md_hostname=%s md_az=%s md_admin_pass=%s\n", q(md["uuid"]), q(md["name"]), q(md["hostname"]), q(md["availability_zone"]), q(md["admin_pass"])
  if (keys != "") {
    printf "" >keys
    for (i = 1; i <= nkeys; i++) print order[i] >keys
  }
}
