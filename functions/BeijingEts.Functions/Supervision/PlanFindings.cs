using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Supervision;

/// <summary>
/// Holds a key unit's monthly data and annual report against its approved data-quality control plan (Art. 22): a fuel
/// the plan does not name, a factor the plan says is measured but the data takes from the defaults, and a parameter
/// measured in a laboratory with no received test report for the period are findings on the district's check. They
/// refuse nothing: the data is kept as filed.
/// </summary>
public sealed class PlanFindings(QualityPlanStore plans, ReportAttachmentStore attachments, ReportStore reports)
{
    public async Task<IReadOnlyList<string>> ForMonthAsync(MonthlyRecord record, int year, int month, CancellationToken cancellationToken)
    {
        var first = new DateOnly(year, month, 1);
        return await FindAsync(record.Uscc, year, record.Fuels, first, first.AddMonths(1).AddDays(-1), $"the data for {record.Month}", cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ForReportAsync(string uscc, int year, int reportVersion, CancellationToken cancellationToken) =>
        await reports.FindAsync(uscc, year, reportVersion, cancellationToken) is { } report
            ? await FindAsync(uscc, year, report.Report.Fuels, new DateOnly(year, 1, 1), new DateOnly(year, 12, 31), $"annual report version {reportVersion}", cancellationToken)
            : [];

    private async Task<IReadOnlyList<string>> FindAsync(string uscc, int year, IReadOnlyList<FuelUse> fuels, DateOnly from, DateOnly to, string what,
        CancellationToken cancellationToken)
    {
        var (versions, decisions) = await plans.ReadAsync(uscc, year, cancellationToken);
        var approved = QualityPlanStore.ApprovedVersion(decisions) is { } n ? versions.First(v => v.Version == n) : null;
        var tests = approved is null ? [] : (await attachments.ListAsync(uscc, year, cancellationToken))
            .Where(a => a is { Status: AttachmentStatus.Received, Test: not null }).Select(a => a.Test!).ToList();
        return Check(approved, year, fuels, from, to, tests, what);
    }

    /// <summary>Every way the data departs from the approved plan, each a sentence the district can act on.</summary>
    public static IReadOnlyList<string> Check(QualityPlanVersion? approved, int year, IReadOnlyList<FuelUse> fuels, DateOnly from, DateOnly to, IReadOnlyList<LabTest> tests,
        string what)
    {
        if (approved is null) return [$"No approved {year} data-quality control plan: {what} cannot be held against one (Art. 22)."];
        var findings = new List<string>();
        var plan = approved.Plan;
        var planFuels = plan.Sources.SelectMany(s => s.Fuels).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var line in fuels.Where(f => f.Quantity > 0))
        {
            if (!planFuels.Contains(line.Fuel)) findings.Add($"{Capital(what)} uses fuel '{line.Fuel}', which no source of plan version {approved.Version} names.");
            foreach (var (parameter, value) in new[] { ("net-calorific-value", line.NcvGJPerUnit), ("carbon-content", line.CarbonContentTCPerGJ), ("oxidation-rate", line.OxidationRate) })
            {
                if (value is not null && !plan.MeasuredParameters.Any(p => p.Parameter == parameter && string.Equals(p.Fuel, line.Fuel, StringComparison.OrdinalIgnoreCase)))
                {
                    findings.Add($"{Capital(what)} gives a measured {parameter} of '{line.Fuel}' ({value}), which plan version {approved.Version} does not measure; the default applies unless the plan is changed.");
                }
            }
            foreach (var measured in plan.MeasuredParameters.Where(p => string.Equals(p.Fuel, line.Fuel, StringComparison.OrdinalIgnoreCase)))
            {
                var given = measured.Parameter switch
                {
                    "net-calorific-value" => line.NcvGJPerUnit is not null,
                    "carbon-content" => line.CarbonContentTCPerGJ is not null,
                    "oxidation-rate" => line.OxidationRate is not null,
                    _ => true,
                };
                if (!given) findings.Add($"{Capital(what)} takes the default {measured.Parameter} of '{line.Fuel}', which plan version {approved.Version} says is measured ({measured.Method}).");
                if (measured.Instrument == "laboratory" && !tests.Any(t => t.Parameter == measured.Parameter && string.Equals(t.Fuel, line.Fuel, StringComparison.OrdinalIgnoreCase)
                        && t.PeriodFrom <= to && t.PeriodTo >= from))
                {
                    findings.Add($"No laboratory test report of {measured.Parameter} of '{line.Fuel}' covers {from:yyyy-MM-dd} to {to:yyyy-MM-dd} ({what}), though plan version {approved.Version} measures it at {measured.Laboratory}.");
                }
            }
        }
        return findings;
    }

    private static string Capital(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
