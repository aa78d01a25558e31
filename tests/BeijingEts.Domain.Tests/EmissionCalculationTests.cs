using BeijingEts.Domain.Reporting;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class EmissionCalculationTests
{
    private static readonly EmissionFactors Factors = new(
        new Dictionary<string, FuelFactor> { ["diesel"] = new("t", 1m, 1m, 1m) },
        ElectricityTCO2PerMWh: 0.5m, HeatTCO2PerGJ: 0.1m);

    private static AnnualReport Report(decimal dieselT = 0, decimal processT = 0, decimal electricityMWh = 0, decimal nonFossilMWh = 0, decimal heatGJ = 0) =>
        new([new FuelUse("diesel", dieselT, "t")], [new ProcessEmission("process", processT)], electricityMWh, heatGJ, nonFossilMWh,
            nonFossilMWh > 0 ? "certificates" : null, [], new Declaration("signer", "title"));

    [Fact]
    public void Compute_RoundsDirectAndIndirectHalfUp_AndTotalIsTheirSum()
    {
        // direct 2.5 → 3; indirect 1 × 0.5 = 0.5 → 1; the total is 3 + 1 = 4, not round(3.0) = 3.
        var result = EmissionCalculation.Compute(Report(processT: 2.5m, electricityMWh: 1m), Factors);

        Assert.Equal(3, result.DirectEmissionsT.Value);
        Assert.Equal(1, result.IndirectEmissionsT.Value);
        Assert.Equal(4, result.TotalEmissionsT.Value);
    }

    [Fact]
    public void Compute_FuelLineIsQuantityTimesNcvCarbonOxidationAnd44Over12()
    {
        var factors = Factors with { Fuels = new Dictionary<string, FuelFactor> { ["diesel"] = new("t", 42.652m, 0.0202m, 0.98m) } };

        var line = EmissionCalculation.Compute(Report(dieselT: 100m), factors).FuelLines.Single();

        Assert.Equal(309.6m, decimal.Round(line.EmissionsT, 1)); // 100 × 42.652 × 0.0202 × 0.98 × 44/12 = 309.591
    }

    [Fact]
    public void Compute_UsesTheUnitsMeasuredFactorsWhereGiven_AndTheDefaultsElsewhere()
    {
        var factors = Factors with { Fuels = new Dictionary<string, FuelFactor> { ["diesel"] = new("t", 42.652m, 0.0202m, 0.98m) } };
        var measured = Report() with { Fuels = [new FuelUse("diesel", 100m, "t", NcvGJPerUnit: 43m, CarbonContentTCPerGJ: 0.02m)] };

        var line = EmissionCalculation.Compute(measured, factors).FuelLines.Single();

        Assert.Equal((43m, 0.02m, 0.98m), (line.NcvGJPerUnit, line.CarbonContentTCPerGJ, line.OxidationRate));
        Assert.Equal(309.0m, decimal.Round(line.EmissionsT, 1)); // 100 × 43 × 0.02 × 0.98 × 44/12 = 309.04
    }

    [Fact]
    public void Validate_RefusesMeasuredFactorsOutOfRange()
    {
        var report = Report() with { Fuels = [new FuelUse("diesel", 1m, "t", NcvGJPerUnit: 0m, CarbonContentTCPerGJ: -1m, OxidationRate: 1.2m)] };

        var problems = EmissionCalculation.Validate(report, Factors);

        Assert.Contains(problems, p => p.Contains("fuels[0].ncvGJPerUnit", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("fuels[0].carbonContentTCPerGJ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("fuels[0].oxidationRate", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.4, null)]   // under half the default net calorific value of 1
    [InlineData(2.5, null)]   // over twice it
    [InlineData(null, 0.0001)] // a carbon content a ten-thousandth of the default: how under-reporting would look
    public void Validate_RefusesMeasuredFactorsFarFromTheDefault(double? ncv, double? carbon)
    {
        var report = Report() with { Fuels = [new FuelUse("diesel", 1m, "t", NcvGJPerUnit: (decimal?)ncv, CarbonContentTCPerGJ: (decimal?)carbon)] };

        Assert.Contains(EmissionCalculation.Validate(report, Factors), p => p.Contains("far from the default", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(100, 30, 35)]  // (100 − 30) × 0.5
    [InlineData(100, 150, 0)]  // non-fossil beyond purchases: not below 0 (Art. 21)
    public void Compute_NonFossilElectricityComesOffPurchases(int purchased, int nonFossil, long expected)
    {
        Assert.Equal(expected, EmissionCalculation.Compute(Report(electricityMWh: purchased, nonFossilMWh: nonFossil), Factors).IndirectEmissionsT.Value);
    }

    [Fact]
    public void Validate_NamesEveryProblem()
    {
        var report = new AnnualReport([new FuelUse("diesel", -1, "kg"), new FuelUse("peat", 1, "t")], [], -1, 0, 5, null,
            [new ActivityLine("Bad Code", 1, "t")], new Declaration("", ""));

        var problems = EmissionCalculation.Validate(report, Factors);

        Assert.Contains(problems, p => p.Contains("fuels[0].quantity"));
        Assert.Contains(problems, p => p.Contains("fuels[0].unit 'kg'"));
        Assert.Contains(problems, p => p.Contains("'peat' is not a fuel"));
        Assert.Contains(problems, p => p.Contains("purchasedElectricityMWh"));
        Assert.Contains(problems, p => p.Contains("nonFossilEvidence"));
        Assert.Contains(problems, p => p.Contains("activity[0].product"));
        Assert.Contains(problems, p => p.Contains("declaration"));
    }
}
