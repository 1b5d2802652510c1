#!/bin/sh
# Entrypoint of the tradewright image (deploy/Dockerfile; docs/deployment.md).
#
# Before the node starts, `tradewright db prepare` waits for the state store at $TRADEWRIGHT_STORE_URL
# (up to $TRADEWRIGHT_STORE_WAIT_S seconds, default 60), restores the backup named by
# $TRADEWRIGHT_RESTORE_FROM if the store is empty (all or nothing; a store that already holds state is
# never overwritten), and migrates the schema to this version. Then the shell is replaced by
# `tradewright ARGS` (default: live /etc/tradewright/node.toml), so SIGTERM from `docker stop` reaches
# the node, which cancels its orders and exits 0. Commands that manage the store themselves (db) or
# do not need it (health, --help, --version) run as they are.
set -eu

if [ "$#" -eq 0 ]; then
    set -- live /etc/tradewright/node.toml
fi

case "$1" in
    db | health | emulator | -h | --help | --version) ;;
    *)
        if [ -n "${TRADEWRIGHT_RESTORE_FROM:-}" ]; then
            tradewright db prepare --wait-s "${TRADEWRIGHT_STORE_WAIT_S:-60}" --restore-from "$TRADEWRIGHT_RESTORE_FROM"
        else
            tradewright db prepare --wait-s "${TRADEWRIGHT_STORE_WAIT_S:-60}"
        fi
        ;;
esac

exec tradewright "$@"
