package dev.graft.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/** An expected digest: algorithm ("SHA-256", "SHA-1") and a hex prefix (torchvision pins 8 hex digits). */
public record Checksum(String algorithm, String hexPrefix) {
    public Checksum {
        hexPrefix = hexPrefix.toLowerCase(Locale.ROOT);
    }

    public static Checksum sha256(String prefix) {
        return new Checksum("SHA-256", prefix);
    }

    public static Checksum sha1(String hex) {
        return new Checksum("SHA-1", hex);
    }

    public boolean matches(String hex) {
        return hex.toLowerCase(Locale.ROOT).startsWith(hexPrefix);
    }

    public MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public String of(Path file) throws IOException {
        return digest(file, algorithm);
    }

    public static String digest(Path file, String algorithm) throws IOException {
        return dev.graft.util.Digests.of(file, algorithm);
    }

    @Override
    public String toString() {
        return algorithm.toLowerCase(Locale.ROOT).replace("-", "") + ":" + hexPrefix;
    }
}
