# cm.bash - bash completion for cm's programs.  Each program lists its own
# options with --complete (from the declarations its --help comes from),
# so completion follows the options of the build it runs: option names,
# the choices of an option (model kinds for cm-train -m), cm-plot's kinds
# (from its own message), and files by what they hold: models (.cmm)
# after an option of a model file, streams and CSV otherwise.
# Installed as each program's file under bash-completion's completions/.

_cm_files() { # _cm_files CUR EXT...: files of those extensions, and directories
    local cur=$1 e
    shift
    for e; do
        compgen -f -X "!*.$e" -- "$cur"
    done
    compgen -d -- "$cur"
}

_cm_complete() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd=${COMP_WORDS[0]##*/} opts name i
    local long short kind vals word operands=0
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    opts=$("${COMP_WORDS[0]}" --complete 2>/dev/null) || return 0
    COMPREPLY=()
    # the value of an option: --opt=VALUE, or after --opt / -o
    name=$prev
    if [[ $cur == --*=* ]]; then
        name=${cur%%=*}
        cur=${cur#*=}
    fi
    while IFS=$'\t' read -r long short kind vals; do
        [[ $name == "$long" || ($short != - && $name == "$short") ]] || continue
        case $kind in
        choice) mapfile -t COMPREPLY < <(compgen -W "${vals//|/ }" -- "$cur"); return 0 ;;
        file)
            if [[ $long == --model || ($long == --output && $cmd == cm-train) ]] ||
                [[ $long == --output && $cmd == cm-tune ]]; then
                mapfile -t COMPREPLY < <(_cm_files "$cur" cmm)
            elif [[ $long == --output && $cmd == cm-plot ]]; then
                mapfile -t COMPREPLY < <(_cm_files "$cur" png svg)
            else
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            fi
            return 0 ;;
        value) return 0 ;;
        esac
    done <<<"$opts"
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(cut -f1 <<<"$opts")" -- "$cur")
        return 0
    fi
    # the operands given so far (words not options nor their values)
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -* ]]; then
            kind=$(awk -F'\t' -v w="${word%%=*}" '$1 == w || $2 == w { print $3 }' <<<"$opts")
            [[ $word != *=* && -n $kind && $kind != flag ]] && ((i++))
        else
            ((operands++))
        fi
    done
    if [[ $cmd == cm-plot && $operands -eq 0 ]]; then
        vals=$("${COMP_WORDS[0]}" 2>&1 | sed -n '1s/.*no kind of plot: //p' | sed 's/,//g; s/ or / /')
        mapfile -t COMPREPLY < <(compgen -W "$vals" -- "$cur")
        return 0
    fi
    case $cmd in
    cm-clean) mapfile -t COMPREPLY < <(_cm_files "$cur" csv gz tsv txt) ;;
    cm-plot) mapfile -t COMPREPLY < <(_cm_files "$cur" csv tsv) ;;
    *) mapfile -t COMPREPLY < <(_cm_files "$cur" cmt csv) ;;
    esac
    return 0
}

complete -F _cm_complete cm-clean cm-features cm-train cm-tune cm-predict cm-serve cm-cat cm-plot
