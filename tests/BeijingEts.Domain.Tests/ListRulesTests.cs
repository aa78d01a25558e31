using BeijingEts.Domain.Lists;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class UsccTests
{
    [Theory]
    [InlineData("91110000600037341L")]
    [InlineData("91110108551385082Q")]
    [InlineData("91110105MA01A1B2CU")]
    [InlineData("121100004000000001")]
    [InlineData("91110105ma01a1b2cu")] // lower case is read as upper case
    public void ValidCode_Parses(string code)
    {
        Assert.True(Uscc.TryParse(code, out var uscc, out var error), error);
        Assert.Equal(code.ToUpperInvariant(), uscc.Value);
    }

    [Fact]
    public void WrongCheckCharacter_SaysWhichOneIsExpected()
    {
        Assert.False(Uscc.TryParse("91110000600037341M", out _, out var error));
        Assert.Contains("check character 'M'", error);
        Assert.Contains("gives 'L'", error);
    }

    [Theory]
    [InlineData("9111000060003734", "16 characters")]
    [InlineData("91110000600037341LL", "19 characters")]
    [InlineData("9111000060003734IL", "'I' at position 17")]
    [InlineData("", "0 characters")]
    public void MalformedCode_SaysWhatIsWrong(string code, string expected)
    {
        Assert.False(Uscc.TryParse(code, out _, out var error));
        Assert.Contains(expected, error);
    }

    [Fact]
    public void EverySingleCharacterTypo_IsCaught()
    {
        // Property of the GB 32100 check: changing any one of the 18 characters is detected.
        const string valid = "91110108551385082Q";
        for (var position = 0; position < 18; position++)
        {
            foreach (var replacement in Uscc.Alphabet.Where(c => c != valid[position]))
            {
                var typo = valid[..position] + replacement + valid[(position + 1)..];
                Assert.False(Uscc.TryParse(typo, out _, out _), typo);
            }
        }
    }
}

public sealed class ClassificationTests
{
    private static UnitStatistics Stats(decimal energy, long direct = 0, long indirect = 0, long? outside = null) => new(energy, direct, indirect, outside);

    [Theory]
    [InlineData("1999.99", UnitCategory.NotListed)]
    [InlineData("2000", UnitCategory.Key)]
    [InlineData("2000.00", UnitCategory.Key)]
    public void EnergyThreshold_IsInclusiveAt2000Tce(string energy, UnitCategory expected)
    {
        var statistics = Stats(decimal.Parse(energy, System.Globalization.CultureInfo.InvariantCulture), direct: 10_000);
        Assert.Equal(expected, Classification.Classify(ListRules.Default, "cement", false, statistics));
    }

    [Theory]
    [InlineData(4999, UnitCategory.Reporting)]
    [InlineData(5000, UnitCategory.Key)]
    public void KeyThreshold_IsInclusiveAt5000TonnesOfDirectPlusIndirect(long total, UnitCategory expected)
    {
        var statistics = Stats(3000m, direct: total - 1200, indirect: 1200);
        Assert.Equal(expected, Classification.Classify(ListRules.Default, "services", false, statistics));
    }

    [Theory]
    [InlineData("construction", UnitCategory.Reporting)]
    [InlineData("agriculture", UnitCategory.Reporting)]
    [InlineData("power", UnitCategory.Key)]
    [InlineData("aviation", UnitCategory.Key)]
    public void UncoveredIndustry_IsAReportingUnitWhateverItEmits(string industry, UnitCategory expected)
    {
        Assert.Equal(expected, Classification.Classify(ListRules.Default, industry, false, Stats(50_000m, direct: 900_000)));
    }

    [Theory]
    [InlineData(4999, UnitCategory.Reporting)]
    [InlineData(5000, UnitCategory.Key)]
    public void NationalEtsUnit_CountsOnlyEmissionsOutsideTheNationalBoundary(long outside, UnitCategory expected)
    {
        // Its total is far above 5,000 t, but the national ETS covers that part (Art. 6 para 2).
        var statistics = Stats(80_000m, direct: 400_000, indirect: 20_000, outside: outside);
        Assert.Equal(expected, Classification.Classify(ListRules.Default, "power", true, statistics));
    }

    [Fact]
    public void RulesInForce_AreTheLatestStartingAtOrBeforeTheYear()
    {
        var stricter = new ListRules(2026, 1500m, 3000, new HashSet<string>(["power"]));
        var rules = new[] { stricter, new ListRules(2028, 1000m, 2000, new HashSet<string>(["heat"])) };

        Assert.Equal(ListRules.Default.EnergyThresholdTce, ListRules.InForce(2025, rules).EnergyThresholdTce);
        Assert.Same(stricter, ListRules.InForce(2026, rules));
        Assert.Same(stricter, ListRules.InForce(2027, rules));
        Assert.Equal(2028, ListRules.InForce(2030, rules).FromYear);
        Assert.Equal(UnitCategory.Key, Classification.Classify(ListRules.InForce(2027, rules), "power", false, Stats(1500m, direct: 3000)));
        Assert.Equal(UnitCategory.NotListed, Classification.Classify(ListRules.InForce(2025, rules), "power", false, Stats(1500m, direct: 3000)));
    }

    [Fact]
    public void DefaultRules_CoverAllButConstructionAndAgriculture()
    {
        Assert.Equal(8, ListRules.Default.CoveredIndustries.Count);
        Assert.DoesNotContain("construction", ListRules.Default.CoveredIndustries);
        Assert.DoesNotContain("agriculture", ListRules.Default.CoveredIndustries);
    }

    [Fact]
    public void ThreeYearsBelowTheKeyThreshold_NeedsAllThreeYearsAndTheirStatistics()
    {
        var below = Stats(3000m, direct: 4000);
        var above = Stats(3000m, direct: 6000);
        var rules = ListRules.Default;

        Assert.True(Classification.BelowKeyThreshold(false, [(rules, below), (rules, below), (rules, below)]));
        Assert.False(Classification.BelowKeyThreshold(false, [(rules, below), (rules, above), (rules, below)]));
        Assert.False(Classification.BelowKeyThreshold(false, [(rules, below), (rules, null), (rules, below)]));
    }
}
