package dev.graft.app;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;

/** A duration on the command line, in seconds: 90, 90s, 10m, 1.5h (AutoGluon's time_limit, with units). */
final class TimeLimit implements ITypeConverter<Double> {
    @Override
    public Double convert(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        double unit = 1;
        if (t.endsWith("h")) {
            unit = 3600;
        } else if (t.endsWith("m") || t.endsWith("min")) {
            unit = 60;
        }
        String number = t.replaceAll("(min|[smh])$", "");
        double v;
        try {
            v = Double.parseDouble(number);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is not a duration (e.g. 90s, 10m, 1.5h)");
        }
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new TypeConversionException("must be a positive duration, not '" + s + "'");
        }
        return v * unit;
    }
}
