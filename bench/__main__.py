"""`./filiera bench`: every benchmark, figures printed and written to bench/results/."""

from bench import events_registrations, funding_matching, members_writes, notifications_fanout

if __name__ == "__main__":
    members_writes.main()
    events_registrations.main()
    funding_matching.main()
    notifications_fanout.main()
