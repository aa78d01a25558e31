namespace BeijingEts.Domain.Reporting;

/// <summary>How a fuel burns: its unit of measure, net calorific value, carbon content and oxidation rate.</summary>
public sealed record FuelFactor(string Unit, decimal NcvGJPerUnit, decimal CarbonContentTCPerGJ, decimal OxidationRate);

/// <summary>A year's emission factors, set by the regulator: what every report of that year is computed with.</summary>
public sealed record EmissionFactors(IReadOnlyDictionary<string, FuelFactor> Fuels, decimal ElectricityTCO2PerMWh, decimal HeatTCO2PerGJ)
{
    public static IReadOnlyList<string> Validate(EmissionFactors factors)
    {
        var problems = new List<string>();
        if (factors.Fuels.Count == 0) problems.Add("fuels is empty; define at least one fuel.");
        foreach (var (code, fuel) in factors.Fuels)
        {
            if (!ReportLimits.IsCode(code)) problems.Add($"fuels: '{code}' is not a fuel code; use lowercase letters, digits and hyphens (such as natural-gas).");
            if (string.IsNullOrWhiteSpace(fuel.Unit)) problems.Add($"fuels.{code}.unit is missing (such as t or 10^4 Nm3).");
            if (fuel.NcvGJPerUnit <= 0) problems.Add($"fuels.{code}.ncvGJPerUnit is {fuel.NcvGJPerUnit}; it must be above 0.");
            if (fuel.CarbonContentTCPerGJ <= 0) problems.Add($"fuels.{code}.carbonContentTCPerGJ is {fuel.CarbonContentTCPerGJ}; it must be above 0.");
            if (fuel.OxidationRate is <= 0 or > 1) problems.Add($"fuels.{code}.oxidationRate is {fuel.OxidationRate}; it must be above 0 and at most 1.");
        }
        if (factors.ElectricityTCO2PerMWh < 0) problems.Add($"electricityTCO2PerMWh is {factors.ElectricityTCO2PerMWh}; it cannot be negative.");
        if (factors.HeatTCO2PerGJ < 0) problems.Add($"heatTCO2PerGJ is {factors.HeatTCO2PerGJ}; it cannot be negative.");
        return problems;
    }
}

public static class ReportLimits
{
    public const int MaxLines = 200;
    public const int MaxText = 500;

    public static bool IsCode(string code) =>
        code.Length is > 0 and <= 64 && code.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' || c == '.') && char.IsAsciiLetterOrDigit(code[0]);
}
