package dev.graft.app;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every numeric option of every command has its range checked when the command line is parsed. */
class OptionRangesTest {
    static final Set<Class<?>> NUMERIC = Set.of(int.class, Integer.class, long.class, Long.class, double.class, Double.class, LearningRate.class);
    /** Any value is a valid seed. */
    static final Set<String> UNBOUNDED = Set.of("--seed", "--split-seed");

    @Test
    void everyNumericOptionRefusesOutOfRangeValuesAtParseTime() {
        List<String> checked = new ArrayList<>();
        CommandLine root = Main.commandLine(new Main());
        for (var e : root.getSubcommands().entrySet()) {
            for (OptionSpec o : e.getValue().getCommandSpec().options()) {
                if (!NUMERIC.contains(o.type()) || UNBOUNDED.contains(o.longestName())) {
                    continue;
                }
                for (String bad : new String[] {"-1", "nan", "x"}) {
                    CommandLine fresh = Main.commandLine(new Main()).getSubcommands().get(e.getKey());
                    try {
                        fresh.parseArgs(o.longestName(), bad);
                        throw new AssertionError(e.getKey() + " " + o.longestName() + " accepted " + bad);
                    } catch (CommandLine.ParameterException ex) {
                        assertTrue(ex.getMessage().contains("Invalid value for option '" + o.longestName() + "'"),
                                e.getKey() + " " + o.longestName() + " " + bad + ": " + ex.getMessage());
                        assertFalse(ex.getMessage().contains("Exception"), ex.getMessage());
                    }
                }
                checked.add(e.getKey() + " " + o.longestName());
            }
        }
        assertTrue(checked.size() > 30, checked.toString());
        System.out.println("range-checked: " + checked);
    }

    @Test
    void zeroIsRefusedWhereACountMustBePositive() {
        String res = TrainCommandTest.run("predict", "--model", "x", "--top-k", "0", "a.jpg");
        assertTrue(res.startsWith("2\n") && res.contains("--top-k") && res.contains("must be at least 1, not 0"), res);
        res = TrainCommandTest.run("train", "--data", "x", "--image-size", "0");
        assertTrue(res.contains("--image-size") && res.contains("between 16 and 4096"), res);
        assertEquals('2', TrainCommandTest.run("train", "--epochs", "0").charAt(0));
    }
}
