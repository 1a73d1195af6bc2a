package dev.graft.train;

/** graft's version, written into every bundle. */
public final class Version {
    public static final String VERSION = "0.1.0";

    private Version() {
    }
}
