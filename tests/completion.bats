#!/usr/bin/env bats
# scripts/completion/cm.bash: bash completion of every program's options,
# an option's choices, cm-plot's kinds and files by what they hold, all
# from the programs themselves (--complete), so it follows their options.
load helpers

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    # shellcheck source=/dev/null
    source "$TOP/scripts/completion/cm.bash"
    touch a.cmm b.cmt c.csv d.png notes.txt
    mkdir sub
}

# The completions of the words given, the last the one being typed.
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _cm_complete
    printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}

@test "complete -p: every program completes with the cm function" {
    local p
    for p in cm-clean cm-features cm-train cm-tune cm-predict cm-serve cm-cat cm-plot; do
        [ "$(complete -p "$p")" = "complete -F _cm_complete $p" ]
    done
}

@test "--complete lists exactly the options --help shows, for every program" {
    local p
    for p in cm-clean cm-features cm-train cm-tune cm-predict cm-serve cm-cat cm-plot; do
        diff <("$p" --help | grep -oE '^ +(-[A-Za-z], )?--[a-z0-9-]+' | sed 's/.*--/--/' | sort) \
            <("$p" --complete | cut -f1 | sort)
    done
}

@test "option names, and an option's choices: model kinds, cm-cat's formats, compgen over them" {
    [ "$(comp cm-train --mo | tr '\n' ' ')" = "--model --momentum " ]
    [ "$(comp cm-train -m '' | tr '\n' ' ')" = "cnn gbdt gru linear lstm mlp " ]
    [ "$(comp cm-train --model=gb)" = gbdt ]
    [ "$(comp cm-cat -f n | tr '\n' ' ')" = "npy npz " ]
    [ "$(comp cm-tune --cv '' | tr '\n' ' ')" = "kfold time " ]
    # an option that takes a number: nothing to offer
    [ -z "$(comp cm-train --epochs '')" ]
}

@test "cm-plot's kinds first, then its inputs; files by what they hold" {
    [ "$(comp cm-plot '' | tr '\n' ' ')" = "backtest forecast history predict tune " ]
    [ "$(comp cm-plot fo)" = forecast ]
    [ "$(comp cm-plot forecast '' | tr '\n' ' ')" = "c.csv sub " ]
    [ "$(comp cm-plot forecast -o '' | tr '\n' ' ')" = "d.png sub " ]
    # models after -m, streams and CSV as the input
    [ "$(comp cm-predict -m '' | tr '\n' ' ')" = "a.cmm sub " ]
    [ "$(comp cm-predict -m a.cmm '' | tr '\n' ' ')" = "b.cmt c.csv sub " ]
    [ "$(comp cm-train -o '' | tr '\n' ' ')" = "a.cmm sub " ]
    [ "$(comp cm-clean '' | tr '\n' ' ')" = "c.csv notes.txt sub " ]
}
