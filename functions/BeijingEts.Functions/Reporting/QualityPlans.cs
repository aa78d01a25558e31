using System.Globalization;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Reporting;

/// <summary>An emission source (a boiler, a kiln line) and the fuels and materials it burns or processes.</summary>
public sealed record PlanSource(string Name, IReadOnlyList<string> Fuels);

/// <summary>
/// A parameter the unit determines itself rather than taking the default value: of which fuel, by what method, on a
/// meter or in a laboratory (named), and how often.
/// </summary>
public sealed record MeasuredParameter(string Parameter, string Fuel, string Method, string Instrument, string? Laboratory, string Frequency);

/// <summary>A person the unit names as responsible for its data: its accounting, its reporting, or its measurement.</summary>
public sealed record ResponsibleStaff(string Name, string Responsibility, string? Phone = null);

/// <summary>
/// A key unit's data-quality control plan (数据质量控制方案, Art. 22): its emission sources and fuels, the parameters it
/// measures itself, how data flows from meter to report, and the staff responsible.
/// </summary>
public sealed record QualityPlan(IReadOnlyList<PlanSource> Sources, IReadOnlyList<MeasuredParameter> MeasuredParameters, string DataFlow, IReadOnlyList<ResponsibleStaff> Staff);

/// <summary>One version of a unit's plan for a year, as filed; never changed (its decision is a record of its own).</summary>
public sealed record QualityPlanVersion(string Uscc, int Year, int Version, QualityPlan Plan, string SubmittedBy, DateTimeOffset SubmittedAt, DateOnly RetainUntil);

/// <summary>The regulator's decision on one version: approved, or returned with the reasons to fix.</summary>
public sealed record QualityPlanDecision(int Version, string Decision, IReadOnlyList<string> Reasons, string DecidedBy, DateTimeOffset DecidedAt);

/// <summary>
/// A version as the API shows it: its status (submitted, approved, returned), its decision if any, and which version of
/// the year is the approved one that data is held against (the latest approved, if any).
/// </summary>
public sealed record QualityPlanView(
    string Uscc, int Year, int Version, string Status, QualityPlan Plan, string SubmittedBy, DateTimeOffset SubmittedAt, DateOnly RetainUntil,
    QualityPlanDecision? Decision, int LatestVersion, int? ApprovedVersion);

public static class QualityPlanRules
{
    public const string Approved = "approved";
    public const string Returned = "returned";
    public const string Submitted = "submitted";

    public static readonly string[] Parameters = ["net-calorific-value", "carbon-content", "oxidation-rate", "emission-factor", "consumption"];
    public static readonly string[] Instruments = ["meter", "laboratory"];
    public static readonly string[] Frequencies = ["each-batch", "daily", "weekly", "monthly", "quarterly", "yearly"];
    public static readonly string[] Responsibilities = ["accounting", "reporting", "measurement"];

    private const int MaxName = 200;
    private const int MaxText = 4000;
    private const int MaxItems = 200;

    /// <summary>Everything wrong with the plan, each naming the field to fix; empty when it may be filed.</summary>
    public static IReadOnlyList<string> Problems(QualityPlan plan)
    {
        var problems = new List<string>();
        var sources = plan.Sources ?? [];
        var parameters = plan.MeasuredParameters ?? [];
        var staff = plan.Staff ?? [];
        if (sources.Count is 0 or > MaxItems) problems.Add($"sources must name 1 to {MaxItems} emission sources, each with the fuels or materials it uses.");
        var fuels = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Math.Min(sources.Count, MaxItems); i++)
        {
            var source = sources[i];
            if (source is null) { problems.Add($"sources[{i}] is empty."); continue; }
            if (!Fits(source.Name, MaxName)) problems.Add($"sources[{i}].name must be 1 to {MaxName} characters.");
            if (source.Fuels is not { Count: > 0 and <= MaxItems }) problems.Add($"sources[{i}].fuels must name 1 to {MaxItems} fuels or materials.");
            for (var f = 0; f < (source.Fuels?.Count ?? 0); f++)
            {
                if (!Fits(source.Fuels![f], MaxName)) problems.Add($"sources[{i}].fuels[{f}] must be 1 to {MaxName} characters.");
                else fuels.Add(source.Fuels[f].Trim());
            }
        }
        if (sources.Where(s => s?.Name is not null).GroupBy(s => s.Name.Trim(), StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            problems.Add($"sources names '{twice.Key}' twice; give each source once, with all its fuels.");
        }
        if (parameters.Count > MaxItems) problems.Add($"measuredParameters has {parameters.Count} entries; give at most {MaxItems}.");
        for (var i = 0; i < Math.Min(parameters.Count, MaxItems); i++)
        {
            var p = parameters[i];
            if (p is null) { problems.Add($"measuredParameters[{i}] is empty."); continue; }
            if (!Parameters.Contains(p.Parameter)) problems.Add($"measuredParameters[{i}].parameter must be one of {string.Join(", ", Parameters)}.");
            if (p.Fuel is null || !fuels.Contains(p.Fuel.Trim())) problems.Add($"measuredParameters[{i}].fuel '{p.Fuel}' is not a fuel of any source in the plan; name it under sources first.");
            if (!Fits(p.Method, MaxText)) problems.Add($"measuredParameters[{i}].method must say how it is measured (the standard or procedure), 1 to {MaxText} characters.");
            if (!Instruments.Contains(p.Instrument)) problems.Add($"measuredParameters[{i}].instrument must be one of {string.Join(", ", Instruments)}.");
            if (p.Instrument == "laboratory" && !Fits(p.Laboratory, MaxName)) problems.Add($"measuredParameters[{i}].laboratory must name the laboratory (1 to {MaxName} characters) when the instrument is a laboratory.");
            if (!Frequencies.Contains(p.Frequency)) problems.Add($"measuredParameters[{i}].frequency must be one of {string.Join(", ", Frequencies)}.");
        }
        if (!Fits(plan.DataFlow, MaxText)) problems.Add($"dataFlow must describe how data goes from meter to report, 1 to {MaxText} characters.");
        if (staff.Count > MaxItems) problems.Add($"staff has {staff.Count} entries; give at most {MaxItems}.");
        for (var i = 0; i < Math.Min(staff.Count, MaxItems); i++)
        {
            var person = staff[i];
            if (person is null) { problems.Add($"staff[{i}] is empty."); continue; }
            if (!Fits(person.Name, MaxName)) problems.Add($"staff[{i}].name must be 1 to {MaxName} characters.");
            if (!Responsibilities.Contains(person.Responsibility)) problems.Add($"staff[{i}].responsibility must be one of {string.Join(", ", Responsibilities)}.");
            if (person.Phone is { Length: > 40 }) problems.Add($"staff[{i}].phone must be at most 40 characters.");
        }
        foreach (var duty in new[] { "accounting", "reporting" })
        {
            if (!staff.Any(s => s?.Responsibility == duty)) problems.Add($"staff must name at least one person responsible for {duty} (Art. 22).");
        }
        return problems;
    }

    private static bool Fits(string? text, int max) => !string.IsNullOrWhiteSpace(text) && text.Trim().Length <= max;

    /// <summary>The plan as filed: names trimmed.</summary>
    public static QualityPlan Tidy(QualityPlan plan) => new(
        plan.Sources.Select(s => new PlanSource(s.Name.Trim(), s.Fuels.Select(f => f.Trim()).ToList())).ToList(),
        (plan.MeasuredParameters ?? []).Select(p => p with { Fuel = p.Fuel.Trim(), Method = p.Method.Trim(), Laboratory = p.Laboratory?.Trim() }).ToList(),
        plan.DataFlow.Trim(),
        plan.Staff.Select(s => s with { Name = s.Name.Trim(), Phone = s.Phone?.Trim() }).ToList());
}

/// <summary>
/// The qualityplans table: a partition per unit and year holding each version (written once) and each version's
/// decision (written once). Row keys name their partition, so no two partitions share one.
/// </summary>
public sealed class QualityPlanStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.QualityPlans);

    private static string Partition(string uscc, int year) => $"{uscc}-{DocumentRows.YearKey(year)}";

    private static string VersionKey(string uscc, int year, int version) => $"v{version.ToString("D6", CultureInfo.InvariantCulture)}|{Partition(uscc, year)}";

    private static string DecisionKey(string uscc, int year, int version) => $"d{version.ToString("D6", CultureInfo.InvariantCulture)}|{Partition(uscc, year)}";

    /// <summary>Every version and decision of the unit's plan for the year: one partition.</summary>
    public async Task<(IReadOnlyList<QualityPlanVersion> Versions, IReadOnlyDictionary<int, QualityPlanDecision> Decisions)> ReadAsync(string uscc, int year,
        CancellationToken cancellationToken)
    {
        var versions = new List<QualityPlanVersion>();
        var decisions = new Dictionary<int, QualityPlanDecision>();
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == Partition(uscc, year), cancellationToken: cancellationToken))
        {
            if (row.RowKey.StartsWith('v')) versions.Add(DocumentRows.Read<QualityPlanVersion>(row));
            else if (DocumentRows.Read<QualityPlanDecision>(row) is { } decision) decisions[decision.Version] = decision;
        }
        return (versions.OrderBy(v => v.Version).ToList(), decisions);
    }

    /// <summary>Adds the next version; two filings at once get two numbers.</summary>
    public async Task<QualityPlanVersion> AddAsync(string uscc, int year, Func<int, QualityPlanVersion> version, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (versions, _) = await ReadAsync(uscc, year, cancellationToken);
            var next = version((versions.Count == 0 ? 0 : versions[^1].Version) + 1);
            try
            {
                await Table.AddEntityAsync(DocumentRows.Entity(Partition(uscc, year), VersionKey(uscc, year, next.Version), next), cancellationToken);
                return next;
            }
            catch (RequestFailedException error) when (error.Status == 409)
            {
                // another filing took this number: take the next
            }
        }
    }

    /// <summary>Records the decision on its version; false when that version was decided already.</summary>
    public async Task<bool> TryDecideAsync(string uscc, int year, QualityPlanDecision decision, CancellationToken cancellationToken)
    {
        try
        {
            await Table.AddEntityAsync(DocumentRows.Entity(Partition(uscc, year), DecisionKey(uscc, year, decision.Version), decision), cancellationToken);
            return true;
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            return false;
        }
    }

    /// <summary>The latest version the regulator approved, if any: the plan that data is held against.</summary>
    public static int? ApprovedVersion(IReadOnlyDictionary<int, QualityPlanDecision> decisions) =>
        decisions.Values.Where(d => d.Decision == QualityPlanRules.Approved).Select(d => (int?)d.Version).Max();

    /// <summary>The named version (the latest when null) as the API shows it; null when there is none.</summary>
    public async Task<QualityPlanView?> ViewAsync(string uscc, int year, int? version, CancellationToken cancellationToken)
    {
        var (versions, decisions) = await ReadAsync(uscc, year, cancellationToken);
        if (versions.Count == 0) return null;
        var shown = version is { } n ? versions.FirstOrDefault(v => v.Version == n) : versions[^1];
        if (shown is null) return null;
        var decision = decisions.GetValueOrDefault(shown.Version);
        var approved = ApprovedVersion(decisions);
        return new QualityPlanView(shown.Uscc, shown.Year, shown.Version, decision?.Decision ?? QualityPlanRules.Submitted, shown.Plan, shown.SubmittedBy, shown.SubmittedAt,
            shown.RetainUntil, decision, versions[^1].Version, approved);
    }
}

/// <summary>
/// PUT /api/units/{uscc}/quality-plans/{year} (the key unit itself; each PUT a new version), GET the latest and
/// .../versions/{n} (the unit, its district, the regulator), POST .../decision (the regulator: approved, or returned
/// with reasons) — the data-quality control plan of Art. 22.
/// </summary>
public sealed class QualityPlanEndpoints : IHttpFunction
{
    public sealed record DecisionRequest(int Version, string Decision, IReadOnlyList<string>? Reasons = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/units/{uscc}/quality-plans/{year:int}", PutAsync).WithTags("Reports");
        api.MapGet("/units/{uscc}/quality-plans/{year:int}", (string uscc, int year, HttpContext http, UnitStore units, QualityPlanStore plans, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "data-quality control plan", code => plans.ViewAsync(code, year, null, ct),
                code => $"Unit {code} has filed no data-quality control plan for {year}.", ct)).WithTags("Reports");
        api.MapGet("/units/{uscc}/quality-plans/{year:int}/versions/{version:int}", (string uscc, int year, int version, HttpContext http, UnitStore units, QualityPlanStore plans,
            CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "data-quality control plan", code => plans.ViewAsync(code, year, version, ct),
                code => $"Unit {code}'s {year} data-quality control plan has no version {version}.", ct)).WithTags("Reports");
        api.MapPost("/units/{uscc}/quality-plans/{year:int}/decision", DecideAsync).WithTags("Reports");
    }

    private static async Task<Results<Created<QualityPlanView>, ProblemHttpResult>> PutAsync(string uscc, int year, QualityPlan plan, HttpContext http, UnitStore units,
        ReportingUnits reporting, QualityPlanStore plans, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A data-quality control plan is filed by the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        if (year is < 2013 or > 2100) return ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).");
        var problems = QualityPlanRules.Problems(plan);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var entry = await reporting.EntryAsync(unit.Uscc, year, cancellationToken) ?? await reporting.EntryAsync(unit.Uscc, year - 1, cancellationToken);
        if (entry?.Category != Categories.Key)
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is not a key unit on the {year} list (or, before it is published, the {year - 1} list); key units file data-quality control plans (Art. 22).");
        }

        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var added = await plans.AddAsync(unit.Uscc, year, version => new QualityPlanVersion(unit.Uscc, year, version, QualityPlanRules.Tidy(plan), actor.Id, now, Retention.Until(now)),
            cancellationToken);
        await audit.RecordAsync(actor, "quality-plan.filed", $"units/{unit.Uscc}/quality-plans/{year}", null, new { added.Version }, cancellationToken);
        var view = (await plans.ViewAsync(unit.Uscc, year, added.Version, cancellationToken))!;
        return TypedResults.Created($"/api/units/{unit.Uscc}/quality-plans/{year}/versions/{added.Version}", view);
    }

    private static async Task<Results<Ok<QualityPlanView>, ProblemHttpResult>> DecideAsync(string uscc, int year, DecisionRequest request, HttpContext http, UnitStore units,
        QualityPlanStore plans, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "The regulator decides on data-quality control plans.", cancellationToken);
        if (unit is null) return problem!;
        var reasons = (request.Reasons ?? []).Select(r => r?.Trim() ?? "").ToList();
        if (request.Decision is not (QualityPlanRules.Approved or QualityPlanRules.Returned))
        {
            return ProblemHandling.BadRequest($"decision must be '{QualityPlanRules.Approved}' or '{QualityPlanRules.Returned}'.");
        }
        if (reasons.Count > 50 || reasons.Any(r => r.Length is 0 or > 2000)) return ProblemHandling.BadRequest("reasons must be at most 50 texts of 1 to 2,000 characters each.");
        if (request.Decision == QualityPlanRules.Returned && reasons.Count == 0) return ProblemHandling.BadRequest("A returned plan needs reasons: say what the unit must change.");

        var (versions, decisions) = await plans.ReadAsync(unit.Uscc, year, cancellationToken);
        if (versions.All(v => v.Version != request.Version)) return ProblemHandling.NotFound($"Unit {unit.Uscc}'s {year} data-quality control plan has no version {request.Version}.");
        if (versions[^1].Version != request.Version)
        {
            return Problems.Conflict($"Version {request.Version} is superseded by version {versions[^1].Version}; decide on the latest version.");
        }
        if (decisions.ContainsKey(request.Version)) return Problems.Conflict($"Version {request.Version} is already {decisions[request.Version].Decision}; the unit files a new version to change it.");

        var actor = Actor.From(http.User);
        var decision = new QualityPlanDecision(request.Version, request.Decision, reasons, actor.Id, clock.GetUtcNow());
        if (!await plans.TryDecideAsync(unit.Uscc, year, decision, cancellationToken)) return Problems.Conflict($"Version {request.Version} was decided at the same moment by another call.");
        await audit.RecordAsync(actor, $"quality-plan.{request.Decision}", $"units/{unit.Uscc}/quality-plans/{year}", null, decision, cancellationToken);
        return TypedResults.Ok((await plans.ViewAsync(unit.Uscc, year, request.Version, cancellationToken))!);
    }
}

/// <summary>
/// POST /api/units/{uscc}/quality-plans/{year}/test-reports (the unit): a create-only signed link for one laboratory test
/// report (检验检测报告, Art. 22), naming the laboratory, the parameter and fuel it tests and the period, which the unit's
/// plan for the year (the approved version, else the latest) must measure. GET: the year's test reports, with download
/// links to the received ones (the unit, its district, the regulator). Uploads are filed as report attachments are.
/// </summary>
public sealed class QualityTestReportEndpoints : IHttpFunction
{
    public sealed record Request(string FileName, string Laboratory, string Parameter, string Fuel, DateOnly PeriodFrom, DateOnly PeriodTo, string? Description = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/units/{uscc}/quality-plans/{year:int}/test-reports", IssueAsync).WithTags("Reports");
        api.MapGet("/units/{uscc}/quality-plans/{year:int}/test-reports", (string uscc, int year, HttpContext http, UnitStore units, ReportAttachmentStore attachments,
                UploadLinks links, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "laboratory test reports",
                async code => await ReportAttachmentEndpoints.ViewsAsync((await attachments.ListAsync(code, year, ct)).Where(a => a.Test is not null).ToList(), links, ct),
                code => "", ct)).WithTags("Reports");
    }

    private static async Task<Results<Created<ReportAttachmentEndpoints.Link>, ProblemHttpResult>> IssueAsync(string uscc, int year, Request request, HttpContext http,
        UnitStore units, QualityPlanStore plans, ReportAttachmentStore attachments, UploadLinks links, UploadSettings settings, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit uploads its own laboratory test reports.", cancellationToken);
        if (unit is null) return problem!;
        if (!UnitAccess.IsUnit(http.User, unit.Uscc)) return Problems.Forbidden("A unit uploads its own laboratory test reports.");
        if (ReportAttachmentEndpoints.DocumentProblem(request.FileName, request.Description) is { } bad) return bad;
        var laboratory = request.Laboratory?.Trim() ?? "";
        if (laboratory.Length is 0 or > 200) return ProblemHandling.BadRequest("laboratory must name the laboratory that made the report, 1 to 200 characters.");
        if (request.PeriodFrom > request.PeriodTo || request.PeriodFrom.Year != year || request.PeriodTo.Year != year)
        {
            return ProblemHandling.BadRequest($"periodFrom and periodTo must give the tested period within {year}, the first not after the second.");
        }

        var (versions, decisions) = await plans.ReadAsync(unit.Uscc, year, cancellationToken);
        var approved = QualityPlanStore.ApprovedVersion(decisions);
        var plan = versions.FirstOrDefault(v => v.Version == approved) ?? versions.LastOrDefault();
        if (plan is null) return Problems.Unprocessable($"Unit {unit.Uscc} has no {year} data-quality control plan; file it first (PUT /api/units/{unit.Uscc}/quality-plans/{year}), naming what it measures.");
        var fuel = request.Fuel?.Trim() ?? "";
        if (!plan.Plan.MeasuredParameters.Any(p => p.Parameter == request.Parameter && p.Fuel == fuel))
        {
            var measured = string.Join(", ", plan.Plan.MeasuredParameters.Select(p => $"{p.Parameter} of {p.Fuel}"));
            return ProblemHandling.BadRequest($"Version {plan.Version} of the {year} plan does not measure {request.Parameter} of '{fuel}'; a test report is for what the plan measures ({(measured.Length > 0 ? measured : "nothing")}).");
        }

        var test = new LabTest(laboratory, request.Parameter, fuel, request.PeriodFrom, request.PeriodTo, plan.Version);
        var link = await ReportAttachmentEndpoints.IssueLinkAsync(unit.Uscc, year, request.FileName.Trim(), request.Description, test, Actor.From(http.User),
            "quality-plan.test-report-link-issued", $"units/{unit.Uscc}/quality-plans/{year}", attachments, links, settings, audit, clock, cancellationToken);
        return TypedResults.Created($"/api/units/{unit.Uscc}/quality-plans/{year}/test-reports", link);
    }
}
