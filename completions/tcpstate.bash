# SPDX-License-Identifier: BSD-3-Clause
# bash completion for tcpstate: options, --format values, anomaly ids (from the binary's own
# catalogue), interfaces for -i, files otherwise.
_tcpstate()
{
    local cur prev words cword
    _init_completion -n = 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
    }
    # After "--" with -i: a command and its arguments.
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -- ]]; then
            COMPREPLY=($(compgen -c -- "$cur"))
            return
        fi
    done
    local anomalies
    anomalies=$("${COMP_WORDS[0]}" --list-anomalies 2>/dev/null | awk 'NR > 1 {print $1}')
    case $prev in
        --format)
            COMPREPLY=($(compgen -W "json text ndjson zeek csv ladder html" -- "$cur"))
            return ;;
        -i | --interface)
            COMPREPLY=($(compgen -W "any $("${COMP_WORDS[0]}" -D 2>/dev/null | awk '/^[0-9]+\./ {sub(/^[0-9]+\./, "", $1); print $1}')" -- "$cur"))
            return ;;
        --connections)
            COMPREPLY=($(compgen -W "all anomalous none" -- "$cur"))
            return ;;
        --split)
            COMPREPLY=($(compgen -W "rfc zeek" -- "$cur"))
            return ;;
        --capture-end)
            COMPREPLY=($(compgen -W "mtime last-packet" -- "$cur"))
            return ;;
        --explain)
            COMPREPLY=($(compgen -W "$anomalies" -- "$cur"))
            return ;;
        --connection)
            COMPREPLY=($(compgen -W "anomalous $anomalies" -- "$cur"))
            return ;;
        --fail-on)
            # A comma-separated list: complete its last item.
            local head=${cur%,*} item=${cur##*,}
            [[ $head == "$cur" ]] && head= || head="$head,"
            COMPREPLY=($(compgen -P "$head" -W "$anomalies severity>=info severity>=warning severity>=error" -- "$item"))
            compopt -o nospace 2>/dev/null
            return ;;
        -Z | --relinquish-privileges | --run-as)
            COMPREPLY=($(compgen -u -- "$cur"))
            return ;;
        -f | --filter | -s | --snaplen | -B | --buffer-size | --duration | -c | --count | \
        --grace | --stats-interval | --max-connections | --memory | --time-wait | \
        --timeout-handshake | --timeout-active | --timeout-closed | --stuck-after | \
        --threads | --vxlan-port | --geneve-port | --gtpu-port | --teredo-port | \
        --ayiya-port | --gre-udp-port)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" --help 2>/dev/null |
            grep -oE -- '(^|[ ,])--?[A-Za-z][-A-Za-z]*' | tr -d ' ,' | sort -u)" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
}
complete -F _tcpstate tcpstate
