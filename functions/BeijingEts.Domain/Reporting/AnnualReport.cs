using BeijingEts.Domain.Ledger;

namespace BeijingEts.Domain.Reporting;

/// <summary>
/// One fuel's use: its quantity, and any factor the unit measured itself under its data-quality control plan (Art. 22)
/// instead of the year's default (net calorific value, carbon content, oxidation rate).
/// </summary>
public sealed record FuelUse(string Fuel, decimal Quantity, string Unit, decimal? NcvGJPerUnit = null, decimal? CarbonContentTCPerGJ = null, decimal? OxidationRate = null);

public sealed record ProcessEmission(string Source, decimal EmissionsT);

public sealed record ActivityLine(string Product, decimal Quantity, string Unit);

/// <summary>The unit vouching for its report (Art. 21): who signed it and in what capacity.</summary>
public sealed record Declaration(string SignedBy, string Title);

/// <summary>What a unit reports for a year (Art. 21): its fuels, process emissions, purchased energy and activity.</summary>
public sealed record AnnualReport(
    IReadOnlyList<FuelUse> Fuels,
    IReadOnlyList<ProcessEmission> Processes,
    decimal PurchasedElectricityMWh,
    decimal PurchasedHeatGJ,
    decimal NonFossilElectricityMWh,
    string? NonFossilEvidence,
    IReadOnlyList<ActivityLine> Activity,
    Declaration Declaration);

/// <summary>One fuel line as computed: its inputs and its emissions, unrounded.</summary>
public sealed record FuelLineResult(string Fuel, decimal Quantity, string Unit, decimal NcvGJPerUnit, decimal CarbonContentTCPerGJ, decimal OxidationRate, decimal EmissionsT);

public sealed record IndirectResult(decimal PurchasedElectricityMWh, decimal NonFossilElectricityMWh, decimal NetElectricityMWh, decimal ElectricityTCO2PerMWh,
    decimal ElectricityEmissionsT, decimal PurchasedHeatGJ, decimal HeatTCO2PerGJ, decimal HeatEmissionsT);

/// <summary>A report's emissions with every figure they come from; whole tonnes only at the end.</summary>
public sealed record EmissionResult(IReadOnlyList<FuelLineResult> FuelLines, IReadOnlyList<ProcessEmission> Processes, IndirectResult Indirect,
    decimal DirectEmissionsExactT, decimal IndirectEmissionsExactT, Tonnes DirectEmissionsT, Tonnes IndirectEmissionsT, Tonnes TotalEmissionsT);

public static class EmissionCalculation
{
    /// <summary>
    /// Per fuel line quantity × NCV × carbon content × oxidation rate × 44/12 (each the unit's measured value where it gives one, else the year's default); indirect is purchased electricity less
    /// non-fossil electricity (not below 0, Art. 21 para 1) × the grid factor, plus heat × the heat factor. Decimals are
    /// kept per line; direct and indirect are rounded half-up to whole tonnes at the end and the total is their sum.
    /// </summary>
    public static EmissionResult Compute(AnnualReport report, EmissionFactors factors)
    {
        var lines = report.Fuels.Select(f =>
        {
            var factor = factors.Fuels[f.Fuel];
            var (ncv, carbon, oxidation) = (f.NcvGJPerUnit ?? factor.NcvGJPerUnit, f.CarbonContentTCPerGJ ?? factor.CarbonContentTCPerGJ, f.OxidationRate ?? factor.OxidationRate);
            var emissions = f.Quantity * ncv * carbon * oxidation * 44m / 12m; // CO2 per carbon, by molar mass
            return new FuelLineResult(f.Fuel, f.Quantity, f.Unit, ncv, carbon, oxidation, emissions);
        }).ToList();
        var direct = lines.Sum(l => l.EmissionsT) + report.Processes.Sum(p => p.EmissionsT);
        var netElectricity = Math.Max(0m, report.PurchasedElectricityMWh - report.NonFossilElectricityMWh);
        var electricity = netElectricity * factors.ElectricityTCO2PerMWh;
        var heat = report.PurchasedHeatGJ * factors.HeatTCO2PerGJ;
        var indirect = new IndirectResult(report.PurchasedElectricityMWh, report.NonFossilElectricityMWh, netElectricity, factors.ElectricityTCO2PerMWh, electricity,
            report.PurchasedHeatGJ, factors.HeatTCO2PerGJ, heat);
        var directT = RoundHalfUp(direct);
        var indirectT = RoundHalfUp(electricity + heat);
        return new EmissionResult(lines, report.Processes, indirect, direct, electricity + heat, directT, indirectT, directT + indirectT);
    }

    public static Tonnes RoundHalfUp(decimal tonnes) => new((long)decimal.Round(tonnes, 0, MidpointRounding.AwayFromZero));

    /// <summary>Everything wrong with a report against the year's factors, each naming the field to fix; empty when it can be computed.</summary>
    public static IReadOnlyList<string> Validate(AnnualReport report, EmissionFactors factors)
    {
        var problems = ValidateFigures(report, factors);
        if (report.Declaration is null || string.IsNullOrWhiteSpace(report.Declaration.SignedBy) || string.IsNullOrWhiteSpace(report.Declaration.Title))
        {
            problems.Add("declaration needs signedBy and title: the unit vouches for its report being true, accurate and complete (Art. 21).");
        }
        return problems;
    }

    private static bool Implausible(decimal measured, decimal standard) => measured < standard / 2 || measured > standard * 2;

    private static string Far(int line, string field, decimal measured, decimal standard) =>
        $"fuels[{line}].{field} is {measured}, far from the default {standard} (a measured value is taken from half to twice it); check the unit of measure and the test report.";

    /// <summary>What is wrong with the figures alone (fuels, processes, purchased energy, activity), as monthly data has them too.</summary>
    public static List<string> ValidateFigures(AnnualReport report, EmissionFactors factors)
    {
        var problems = new List<string>();
        if (report.Fuels.Count > ReportLimits.MaxLines || report.Processes.Count > ReportLimits.MaxLines || report.Activity.Count > ReportLimits.MaxLines)
        {
            problems.Add($"A report has at most {ReportLimits.MaxLines} fuel, process and activity lines each.");
        }
        for (var i = 0; i < report.Fuels.Count; i++)
        {
            var line = report.Fuels[i];
            if (!factors.Fuels.TryGetValue(line.Fuel ?? "", out var factor))
            {
                problems.Add($"fuels[{i}].fuel '{line.Fuel}' is not a fuel of this year's emission factors; the fuels are {string.Join(", ", factors.Fuels.Keys.Order(StringComparer.Ordinal))}.");
            }
            else if (!string.Equals(line.Unit?.Trim(), factor.Unit, StringComparison.Ordinal))
            {
                problems.Add($"fuels[{i}].unit '{line.Unit}' does not match {line.Fuel}, which is reported in '{factor.Unit}'.");
            }
            if (line.Quantity < 0) problems.Add($"fuels[{i}].quantity is {line.Quantity}; it cannot be negative.");
            if (line.NcvGJPerUnit <= 0) problems.Add($"fuels[{i}].ncvGJPerUnit is {line.NcvGJPerUnit}; a measured net calorific value must be above 0 (leave it out to use the default).");
            if (line.CarbonContentTCPerGJ <= 0) problems.Add($"fuels[{i}].carbonContentTCPerGJ is {line.CarbonContentTCPerGJ}; a measured carbon content must be above 0 (leave it out to use the default).");
            if (line.OxidationRate is <= 0 or > 1) problems.Add($"fuels[{i}].oxidationRate is {line.OxidationRate}; a measured oxidation rate must be above 0 and at most 1 (leave it out to use the default).");
            // A measured value far from the default is a wrong unit or a wrong report far more often than a real fuel.
            if (factor is not null)
            {
                if (line.NcvGJPerUnit is > 0 and var ncv && Implausible(ncv, factor.NcvGJPerUnit)) problems.Add(Far(i, "ncvGJPerUnit", ncv, factor.NcvGJPerUnit));
                if (line.CarbonContentTCPerGJ is > 0 and var carbon && Implausible(carbon, factor.CarbonContentTCPerGJ)) problems.Add(Far(i, "carbonContentTCPerGJ", carbon, factor.CarbonContentTCPerGJ));
                if (line.OxidationRate is > 0 and <= 1 and var rate && rate < factor.OxidationRate / 2) problems.Add(Far(i, "oxidationRate", rate, factor.OxidationRate));
            }
        }
        foreach (var fuel in report.Fuels.GroupBy(f => f.Fuel).Where(g => g.Count() > 1)) problems.Add($"fuels lists '{fuel.Key}' more than once; give one line per fuel.");
        for (var i = 0; i < report.Processes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(report.Processes[i].Source)) problems.Add($"processes[{i}].source is missing.");
            else if (report.Processes[i].Source.Length > ReportLimits.MaxText) problems.Add($"processes[{i}].source is over {ReportLimits.MaxText} characters.");
            if (report.Processes[i].EmissionsT < 0) problems.Add($"processes[{i}].emissionsT is {report.Processes[i].EmissionsT}; it cannot be negative.");
        }
        if (report.PurchasedElectricityMWh < 0) problems.Add($"purchasedElectricityMWh is {report.PurchasedElectricityMWh}; it cannot be negative.");
        if (report.PurchasedHeatGJ < 0) problems.Add($"purchasedHeatGJ is {report.PurchasedHeatGJ}; it cannot be negative.");
        if (report.NonFossilElectricityMWh < 0) problems.Add($"nonFossilElectricityMWh is {report.NonFossilElectricityMWh}; it cannot be negative.");
        if (report.NonFossilElectricityMWh > 0 && string.IsNullOrWhiteSpace(report.NonFossilEvidence))
        {
            problems.Add("nonFossilEvidence is missing: the non-fossil electricity adjustment (Art. 21) needs the evidence it rests on (green certificates, contracts).");
        }
        if (report.NonFossilEvidence?.Length > ReportLimits.MaxText) problems.Add($"nonFossilEvidence is over {ReportLimits.MaxText} characters.");
        for (var i = 0; i < report.Activity.Count; i++)
        {
            var line = report.Activity[i];
            if (!ReportLimits.IsCode(line.Product ?? "")) problems.Add($"activity[{i}].product '{line.Product}' is not a product code; use lowercase letters, digits and hyphens (such as electricity-mwh).");
            if (string.IsNullOrWhiteSpace(line.Unit)) problems.Add($"activity[{i}].unit is missing.");
            if (line.Quantity < 0) problems.Add($"activity[{i}].quantity is {line.Quantity}; it cannot be negative.");
        }
        foreach (var product in report.Activity.GroupBy(a => a.Product).Where(g => g.Count() > 1)) problems.Add($"activity lists '{product.Key}' more than once; give one line per product.");
        return problems;
    }
}
