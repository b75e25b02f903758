# bash completion for spot and spotd (installed as share/bash-completion/completions/spot and .../spotd).
# The verbs, each verb's options and the kind of its first operand come from the program itself (`spot help
# --verbs`, `--options VERB`, `--args VERB`), so this file never goes stale; log names come from `spot ls`.

_spot_words() { # the spot program being completed, then its arguments
  "${_spot_prog:-spot}" "$@" 2>/dev/null
}

_spot() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local _spot_prog=${COMP_WORDS[0]} verb="" ns="" i nargs=0
  COMPREPLY=()
  # find the verb: the first word that is neither a global option nor its value
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -n | --namespace) ns=${COMP_WORDS[i+1]}; ((i++)) ;;
      --key | --node-key) ((i++)) ;;
      -*) ;;
      *) if [ -z "$verb" ]; then verb=${COMP_WORDS[i]}; else ((nargs++)); fi ;;
    esac
  done
  case $prev in
    -n | --namespace | --dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --key | --node-key | --file | --params | --plot) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --sync) COMPREPLY=($(compgen -W "none batch always" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "raw text hex json" -- "$cur")); return ;;
    --mode) COMPREPLY=($(compgen -W "worker thread" -- "$cur")); return ;;
  esac
  if [ -z "$verb" ]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "-n --namespace --key --node-key --help --version" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$(_spot_words help --verbs) vquery" -- "$cur"))
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_spot_words help --options "$verb")" -- "$cur"))
    return
  fi
  [ "$nargs" -gt 0 ] && return
  case $(_spot_words help --args "$verb") in
    log) COMPREPLY=($(compgen -W "$(_spot_words ${ns:+-n "$ns"} ls | awk 'NR > 1 { print $1 }')" -- "$cur")) ;;
    file) COMPREPLY=($(compgen -f -X '!*.@(c|so)' -- "$cur") $(compgen -d -- "$cur")) ;;
    dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
    verb) [ "$verb" = help ] && COMPREPLY=($(compgen -W "$(_spot_words help --verbs) spotd spot-handler" -- "$cur")) ;;
  esac
}

_spotd() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local spot=${COMP_WORDS[0]%spotd}spot
  COMPREPLY=()
  case $prev in
    -n | --namespace) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --key | --pidfile) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --mode) COMPREPLY=($(compgen -W "worker thread" -- "$cur")); return ;;
  esac
  [ -x "$spot" ] || spot=spot
  COMPREPLY=($(compgen -W "$("$spot" help --options spotd 2>/dev/null)" -- "$cur"))
}

complete -F _spot spot
complete -F _spotd spotd
