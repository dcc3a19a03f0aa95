#!/usr/bin/env bash
# Writes troupe's man page (troupe.1, roff) and its bash completion
# (troupe.bash) from the binary's own help pages, so that neither can miss a
# subcommand or a flag: `troupe --help` names the subcommands, `troupe SUB
# --help` their usage, text and options. Run by the build (CMakeLists.txt,
# tools/cmake/troupe-install.cmake); tests/tools/install.test.cpp checks the
# result against the help again.
# Usage: tools/gen-docs.sh TROUPE_BINARY OUT_DIR
set -euo pipefail
bin=$1
out=$2
mkdir -p "$out"

main_help=$("$bin" --help)
version=$("$bin" --version | cut -d' ' -f2)
subs=$(printf '%s\n' "$main_help" | sed -nE 's/^  troupe ([a-z][a-z0-9-]*).*/\1/p')

# Reads one help page and prints its parts, one per line, tab-separated:
#   U usage | D text before the options ("" ends a paragraph) |
#   O names type description | C more description | F text after the
#   options (P: indented, kept as laid out).
parse_help='
  function flush_opt() { if (names != "") print "O\t" names "\t" type "\t" desc; names = "" }
  # The usage line first, wherever the page has it (fake-dify: after its
  # text), then the text.
  function flush_text(  i) { for (i = 1; i <= ntext; i++) print "D\t" text[i]; ntext = 0 }
  BEGIN { state = "pre" }
  /^Usage: / { print "U\t" substr($0, 8); next }
  state == "pre" && /^(Options|Positionals):$/ { flush_text(); state = "opts"; next }
  state == "pre" { text[++ntext] = $0; next }
  state == "opts" && /^$/ { flush_opt(); state = "post"; next }
  state == "opts" && /^  -/ {
    flush_opt()
    line = substr($0, 3)
    # Descriptions start in one column, taken from the first option line
    # (-h,--help, which is short); a name that fills the column may leave
    # a single space before its description, or put it on the next line.
    if (!col && match(line, /  +/))
      col = RSTART + RLENGTH
    if (col && length(line) >= col && substr(line, col - 1, 1) == " ") {
      head = substr(line, 1, col - 1)
      desc = substr(line, col)
    } else {
      head = line
      desc = ""
    }
    sub(/ +$/, "", head)
    gsub(/, -/, ",-", head)
    sp = index(head, " ")
    names = sp ? substr(head, 1, sp - 1) : head
    type = sp ? substr(head, sp + 1) : ""
    next
  }
  state == "opts" { sub(/^ +/, ""); desc = desc (desc == "" ? "" : " ") $0; next }
  state == "post" && /^ / { print "P\t" $0; next }
  state == "post" { print "F\t" $0; next }
  END { flush_opt(); flush_text() }
'

# The parts of every subcommand's page, each block opened by "S NAME".
parts=$(for sub in $subs; do
  printf 'S\t%s\n' "$sub"
  "$bin" "$sub" --help | awk "$parse_help"
done)

# -- the man page --
to_roff='
  # Option-like words get \- for each dash (a real minus, searchable and
  # copyable); a backslash is written \e; a line never opens with a dot.
  function esc(s,   n, i, w, r) {
    gsub(/\\/, "\\e", s)
    n = split(s, w, / /)
    r = ""
    for (i = 1; i <= n; i++) {
      if (w[i] ~ /^[(`"]*-/)
        gsub(/-/, "\\-", w[i])
      r = r (i > 1 ? " " : "") w[i]
    }
    return r
  }
  function line(s) { if (s ~ /^[.\047]/) s = "\\&" s; print s }
  function para(s) { gsub(/  +/, " ", s); if (s != "") { print ".PP"; line(esc(s)) } }
  BEGIN { FS = "\t" }
  # The main page: its first line is "troupe: what it does".
  NR == FNR && FNR == 1 {
    print ".TH TROUPE 1 \"\" \"troupe " version "\" \"User Commands\""
    print ".nh"
    print ".ad l"
    print ".SH NAME"
    sub(/^troupe: */, ""); sub(/\.$/, "")
    line("troupe \\- " esc($0))
    next
  }
  NR == FNR && /^Usage:$/ { in_usage = 1; print ".SH SYNOPSIS"; next }
  NR == FNR && in_usage && /^  troupe/ {
    sub(/^  /, "")
    summary = $0; sub(/^[^ ]+( [^ ]+)*  +/, "", summary)
    sub(/  .*/, "")
    w = $0; sub(/^troupe [^ ]+ ?/, "", w)
    cmd = substr($0, 1, length($0) - length(w))
    sub(/ $/, "", cmd)
    print "\\fB" esc(cmd) "\\fR" (w == "" ? "" : " ") esc(w)
    print ".br"
    commands_list[++ncommands] = cmd "\t" summary
    next
  }
  NR == FNR && in_usage && /^$/ { in_usage = 0; next }
  NR == FNR && /^Exit codes:/ { in_exit = 1 }
  NR == FNR && in_exit { exit_text = exit_text " " $0; next }
  NR == FNR && !in_usage { if ($0 != "") main_text = main_text " " $0; next }
  # The subcommands. A preformatted block ends at the first part that is
  # not one.
  $1 != "P" && pre { print ".fi"; pre = 0 }
  $1 == "S" {
    if (!commands) {
      print ".SH DESCRIPTION"
      para(substr(main_text, 2))
      for (i = 1; i <= ncommands; i++) {
        split(commands_list[i], c, "\t")
        print ".TP"
        print "\\fB" esc(c[1]) "\\fR"
        line(esc(c[2]))
      }
      print ".SH COMMANDS"
      commands = 1
    }
    next
  }
  $1 == "U" { print ".SS \"" $2 "\""; text = ""; next }
  $1 == "D" || $1 == "F" {
    if ($2 == "") { para(text); text = "" } else text = text (text == "" ? "" : " ") $2
    next
  }
  $1 == "O" {
    para(text); text = ""
    print ".TP"
    names = $2; gsub(/,/, ", ", names)
    print "\\fB" esc(names) "\\fR" ($3 == "" ? "" : " \\fI" esc($3) "\\fR")
    line(esc($4))
    next
  }
  $1 == "P" {
    para(text); text = ""
    if (!pre) print ".PP\n.nf"
    pre = 1
    line(esc($2))
    next
  }
  END {
    para(text)
    if (pre) print ".fi"
    print ".SH EXIT STATUS"
    para(substr(exit_text, 2))
    print ".SH FILES"
    print ".TP"
    print ".I share/troupe/examples/"
    print "Example manifests under the installation prefix"
    print "(\\fI/usr/share/troupe/examples/\\fR from the .deb):"
    print "\\fBtroupe run /usr/share/troupe/examples/stub-smoke.json \\-\\-out r.jsonl\\fR"
    print "runs one without any service."
    print ".SH SEE ALSO"
    print "The manifest keys: config/README.md in troupe'"'"'s sources."
  }
'
awk -v version="$version" "$to_roff" <(printf '%s\n' "$main_help") \
  <(printf '%s\n' "$parts") >"$out/troupe.1.tmp"
mv "$out/troupe.1.tmp" "$out/troupe.1"

# -- the bash completion --
to_bash='
  # The help words these values in prose; the rest name them in the type
  # ("--throttle 400|429").
  BEGIN { FS = "\t"; known_choices["--progress"] = "auto|always|never" }
  function close_sub() {
    if (sub_name == "") return
    print "    " sub_name ")"
    print "      flags=\"" flags "\""
    print "      files=\" " files " \" dirs=\" " dirs " \""
    print "      values=\" " values " \" choices=\" " choices " \""
    print "      ;;"
  }
  $1 == "S" { close_sub(); sub_name = $2; flags = files = dirs = values = choices = ""; next }
  $1 == "O" {
    n = split($2, names, ",")
    for (i = 1; i <= n; i++) {
      flags = flags (flags == "" ? "" : " ") names[i]
      if ($3 ~ /^FILE/) files = files " " names[i]
      else if ($3 ~ /^DIR/) dirs = dirs " " names[i]
      else if ($3 ~ /^[a-z0-9]+(\|[a-z0-9]+)+$/) choices = choices " " names[i] ":" $3
      else if (names[i] in known_choices) choices = choices " " names[i] ":" known_choices[names[i]]
      else if ($3 != "") values = values " " names[i]
    }
  }
  END { close_sub() }
'
{
  cat <<EOF
# bash completion for troupe $version: subcommands, their flags, and files
# where a flag or argument takes one. Generated from troupe's --help pages
# by tools/gen-docs.sh; do not edit.
_troupe() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local i sub=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      -*) ;;
      *) sub=\${COMP_WORDS[i]}; break ;;
    esac
  done
  local flags files dirs values choices
  case \$sub in
    '')
      mapfile -t COMPREPLY < <(compgen -W "$(echo $subs) --help --version" -- "\$cur")
      return
      ;;
EOF
  printf '%s\n' "$parts" | awk "$to_bash"
  cat <<'EOF'
    *) return ;;
  esac
  # The value of a flag: a path, a word from a fixed set, or free text.
  if [[ $choices == *" $prev:"* ]]; then
    local words=${choices#*" $prev:"}
    words=${words%% *}
    mapfile -t COMPREPLY < <(compgen -W "${words//|/ }" -- "$cur")
  elif [[ $files == *" $prev "* ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  elif [[ $dirs == *" $prev "* ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
  elif [[ $values == *" $prev "* ]]; then
    COMPREPLY=()
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
  else
    # The positional arguments are files (MANIFEST, RESULTS, BASE, NEW).
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}
complete -F _troupe troupe
EOF
} >"$out/troupe.bash.tmp"
mv "$out/troupe.bash.tmp" "$out/troupe.bash"
