"""The running daemon: scheduler, plan loop, metrics, logging, sd_notify."""
