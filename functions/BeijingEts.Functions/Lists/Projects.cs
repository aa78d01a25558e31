using System.Security.Claims;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

/// <summary>One source of a project's expected emissions, in whole tonnes a year.</summary>
public sealed record ExpectedSource(string Source, long EmissionsT);

/// <summary>The benchmark a project is compared with: its name, the benchmark's value and the project's own, in one unit.</summary>
public sealed record ProjectBenchmark(string Name, decimal Value, decimal ProjectValue, string Unit);

/// <summary>The regulator's review opinion on a project's carbon assessment.</summary>
public sealed record ProjectOpinion(string Opinion, string Text, string GivenBy, DateTimeOffset GivenAt);

/// <summary>
/// A new or expanded construction project's carbon assessment (Art. 10 para 2): what it is, when it starts, what it is
/// expected to emit a year by source and to use in energy, the benchmark it is held to, and how it will cut emissions.
/// Once in operation, its expected emissions count toward its owner's classification for its first year, and a key
/// owner's new-entrant allocation is put to the regulator as an adjustment paid from the reserve.
/// </summary>
public sealed record ProjectAssessment(
    string Id, string Owner, string? OwnerName, string Name, string Kind, string District, string Industry, DateOnly ExpectedStart,
    IReadOnlyList<ExpectedSource> ExpectedEmissions, decimal EnergyUseTce, ProjectBenchmark Benchmark, IReadOnlyList<string> Mitigation,
    string Status, DateTimeOffset FiledAt, string FiledBy, ProjectOpinion? Opinion = null, DateOnly? StartedOn = null, string? NewEntrantAdjustment = null)
{
    public const string Submitted = "submitted";
    public const string Reviewed = "reviewed";
    public const string InOperation = "in-operation";

    public long ExpectedAnnualT => ExpectedEmissions.Sum(e => e.EmissionsT);
}

public static class ProjectOpinions
{
    public const string Approved = "approved";
    public const string ApprovedWithConditions = "approved-with-conditions";
    public const string Rejected = "rejected";

    public static readonly string[] All = [Approved, ApprovedWithConditions, Rejected];
}

/// <summary>The projects table: one partition, a row per assessment; owner, status and district as columns for the query.</summary>
public sealed class ProjectStore(StorageClients storage)
{
    private KeyedDocuments<ProjectAssessment> Rows => new(storage.Table(StorageNames.Tables.Projects), "project", p => p.Id,
        p => [("Owner", p.Owner), ("Status", p.Status), ("District", p.District)]);

    public Task<(ProjectAssessment Project, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken) => Rows.FindAsync(id, cancellationToken);

    public Task AddAsync(ProjectAssessment project, CancellationToken cancellationToken) => Rows.AddAsync(project, cancellationToken);

    public Task<bool> TryReplaceAsync(ProjectAssessment project, ETag etag, CancellationToken cancellationToken) => Rows.TryReplaceAsync(project, etag, cancellationToken);

    public async Task<IReadOnlyList<ProjectAssessment>> ListAsync(string? owner, string? status, string? district, CancellationToken cancellationToken) =>
        (await Rows.QueryAsync([("Owner", owner), ("Status", status), ("District", district)], cancellationToken)).OrderBy(p => p.FiledAt).ToList();

    /// <summary>
    /// The statistics a list of <paramref name="year"/> classifies on, with the expected emissions and energy of each
    /// project that went into operation that year added to its owner's (the year's statistics do not yet hold a full year of it).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, UnitStatistics>> WithProjectsAsync(int year, IReadOnlyDictionary<string, UnitStatistics> figures, CancellationToken cancellationToken)
    {
        var starting = (await ListAsync(null, ProjectAssessment.InOperation, null, cancellationToken)).Where(p => p.StartedOn?.Year == year).ToList();
        if (starting.Count == 0) return figures;
        var merged = figures.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        foreach (var project in starting)
        {
            merged[project.Owner] = merged.TryGetValue(project.Owner, out var stats)
                ? stats with { EnergyConsumptionTce = stats.EnergyConsumptionTce + project.EnergyUseTce, DirectEmissionsT = stats.DirectEmissionsT + project.ExpectedAnnualT }
                : new UnitStatistics(project.EnergyUseTce, project.ExpectedAnnualT, 0, null);
        }
        return merged;
    }
}

/// <summary>
/// Carbon assessments of new and expanded projects (Art. 10 para 2): POST /api/projects (a unit for itself; the regulator
/// for an owner on no list yet), GET /api/projects?owner=&amp;status= and /{id} (the regulator, the owner's district, the
/// owner), POST /api/projects/{id}/opinion (regulator), POST /api/projects/{id}/operation (the owner or the regulator).
/// </summary>
public sealed class ProjectEndpoints : IHttpFunction
{
    public const int MaxText = 4000;

    public sealed record FileRequest(string Owner, string Name, string Kind, string District, string Industry, DateOnly ExpectedStart, IReadOnlyList<ExpectedSource> ExpectedEmissions,
        decimal EnergyUseTce, ProjectBenchmark Benchmark, IReadOnlyList<string> Mitigation, string? OwnerName = null);

    public sealed record OpinionRequest(string Opinion, string Text);

    public sealed record OperationRequest(DateOnly StartedOn);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/projects", FileAsync).WithTags("Lists");
        api.MapGet("/projects", ListAsync).WithTags("Lists");
        api.MapGet("/projects/{id}", async (string id, HttpContext http, ProjectStore projects, CancellationToken ct) =>
            await LoadAsync(id, http.User, projects, ct) is var (project, problem) && project is not null
                ? (Results<Ok<ProjectAssessment>, ProblemHttpResult>)TypedResults.Ok(project)
                : problem!).WithTags("Lists");
        api.MapPost("/projects/{id}/opinion", OpinionAsync).WithTags("Lists");
        api.MapPost("/projects/{id}/operation", OperationAsync).WithTags("Lists");
    }

    private static IReadOnlyList<string> Validate(FileRequest r)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Length > 200) problems.Add("name must name the project, 1 to 200 characters.");
        if (r.Kind is not ("new" or "expansion")) problems.Add("kind must be 'new' or 'expansion'.");
        if (!Districts.IsKnown(r.District)) problems.Add($"district '{r.District}' is not a Beijing district; write one of {string.Join("、", Districts.All)}.");
        if (string.IsNullOrWhiteSpace(r.Industry) || r.Industry.Length > 60) problems.Add("industry must name the project's industry, 1 to 60 characters.");
        if (r.ExpectedStart.Year is < 2013 or > 2100) problems.Add("expectedStart is out of range.");
        var sources = r.ExpectedEmissions ?? [];
        if (sources.Count is 0 or > 50) problems.Add("expectedEmissions must give 1 to 50 sources, each with its expected emissions a year.");
        for (var i = 0; i < Math.Min(sources.Count, 50); i++)
        {
            if (sources[i] is null || string.IsNullOrWhiteSpace(sources[i].Source) || sources[i].Source.Length > 200) problems.Add($"expectedEmissions[{i}].source must name the source, 1 to 200 characters.");
            else if (sources[i].EmissionsT is < 0 or > 100_000_000) problems.Add($"expectedEmissions[{i}].emissionsT must be 0 to 100,000,000 whole tonnes a year.");
        }
        if (r.EnergyUseTce is < 0 or > 100_000_000) problems.Add("energyUseTce must be 0 to 100,000,000 tonnes of standard coal a year.");
        if (r.Benchmark is null || string.IsNullOrWhiteSpace(r.Benchmark.Name) || r.Benchmark.Name.Length > 200 || string.IsNullOrWhiteSpace(r.Benchmark.Unit)
            || r.Benchmark.Unit.Length > 60 || r.Benchmark.Value <= 0 || r.Benchmark.ProjectValue < 0)
        {
            problems.Add("benchmark needs name, unit, value (above 0) and projectValue (the project's own figure, not negative).");
        }
        var mitigation = r.Mitigation ?? [];
        if (mitigation.Count is 0 or > 20 || mitigation.Any(m => string.IsNullOrWhiteSpace(m) || m.Length > 500)) problems.Add("mitigation must list 1 to 20 measures, each 1 to 500 characters.");
        if (r.OwnerName?.Length > 200) problems.Add("ownerName is over 200 characters.");
        return problems;
    }

    private static async Task<Results<Created<ProjectAssessment>, ProblemHttpResult>> FileAsync(FileRequest request, HttpContext http, UnitStore units, ProjectStore projects,
        AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(request.Owner ?? "", out var owner, out var invalid)) return invalid!;
        if (http.User.IsInRole(Roles.Unit) && !UnitAccess.IsUnit(http.User, owner)) return Problems.Forbidden("A unit files its own projects; the regulator files for an owner on no list.");
        var problems = Validate(request);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var registered = (await units.FindAsync(owner, cancellationToken))?.Unit;
        var actor = Actor.From(http.User);
        var project = new ProjectAssessment(PlatformIds.New(), owner, registered?.Name ?? request.OwnerName?.Trim(), request.Name.Trim(), request.Kind, request.District,
            request.Industry.Trim(), request.ExpectedStart, request.ExpectedEmissions.Select(e => e with { Source = e.Source.Trim() }).ToList(), request.EnergyUseTce,
            request.Benchmark, request.Mitigation.Select(m => m.Trim()).ToList(), ProjectAssessment.Submitted, clock.GetUtcNow(), actor.Id);
        await projects.AddAsync(project, cancellationToken);
        await audit.RecordAsync(actor, "project.filed", $"projects/{project.Id}", null, project, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Id}", project);
    }

    private static async Task<Results<Ok<IReadOnlyList<ProjectAssessment>>, ProblemHttpResult>> ListAsync(string? owner, string? status, HttpContext http, ProjectStore projects,
        CancellationToken cancellationToken)
    {
        if (status is not (null or ProjectAssessment.Submitted or ProjectAssessment.Reviewed or ProjectAssessment.InOperation))
        {
            return ProblemHandling.BadRequest($"status must be {ProjectAssessment.Submitted}, {ProjectAssessment.Reviewed} or {ProjectAssessment.InOperation}.");
        }
        var user = http.User;
        var own = user.IsInRole(Roles.Unit) ? user.FindFirstValue(EtsClaims.UnitId)?.ToUpperInvariant() : null;
        var district = user.IsInRole(Roles.District) ? user.FindFirstValue(EtsClaims.District) : null;
        if (own is not null && owner is not null && !string.Equals(own, owner, StringComparison.OrdinalIgnoreCase)) return TypedResults.Ok<IReadOnlyList<ProjectAssessment>>([]);
        return TypedResults.Ok(await projects.ListAsync(own ?? owner?.ToUpperInvariant(), status, district, cancellationToken));
    }

    private static async Task<Results<Ok<ProjectAssessment>, ProblemHttpResult>> OpinionAsync(string id, OpinionRequest request, HttpContext http, ProjectStore projects,
        AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!ProjectOpinions.All.Contains(request.Opinion)) return ProblemHandling.BadRequest($"opinion must be one of {string.Join(", ", ProjectOpinions.All)}.");
        var text = request.Text?.Trim() ?? "";
        if (text.Length is 0 or > MaxText) return ProblemHandling.BadRequest($"text is the review opinion (and any conditions), 1 to {MaxText} characters.");
        if (await projects.FindAsync(id, cancellationToken) is not var (project, etag)) return ProblemHandling.NotFound($"No project {id}.");
        if (project.Status != ProjectAssessment.Submitted) return Problems.Conflict($"Project {id} is {project.Status}; its opinion is given once.");
        var actor = Actor.From(http.User);
        var reviewed = project with { Status = ProjectAssessment.Reviewed, Opinion = new ProjectOpinion(request.Opinion, text, actor.Id, clock.GetUtcNow()) };
        if (!await projects.TryReplaceAsync(reviewed, etag, cancellationToken)) return Problems.Conflict($"Project {id} changed at the same moment; read it again.");
        await audit.RecordAsync(actor, "project.reviewed", $"projects/{id}", project, reviewed, cancellationToken);
        return TypedResults.Ok(reviewed);
    }

    /// <summary>
    /// The project goes into operation: from then its expected emissions count toward its owner's classification for the
    /// year it started, and a key owner's new-entrant allocation for the rest of that year is filed as an adjustment
    /// application for the regulator to decide (paid from the reserve, Art. 12).
    /// </summary>
    private static async Task<Results<Ok<ProjectAssessment>, ProblemHttpResult>> OperationAsync(string id, OperationRequest request, HttpContext http, ProjectStore projects,
        UnitStore units, Reporting.ReportingUnits reporting, AllocationPlanStore plans, AdjustmentStore adjustments, Notifications.NoticeOutbox notices, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var (visible, problem) = await LoadAsync(id, http.User, projects, cancellationToken);
        if (visible is null) return problem!;
        if (!http.User.IsInRole(Roles.Regulator) && !UnitAccess.IsUnit(http.User, visible.Owner)) return Problems.Forbidden("The owner or the regulator records a project going into operation.");
        // Written under the ETag read here: two calls at once cannot both put it into operation.
        var (project, etag) = (await projects.FindAsync(id, cancellationToken))!.Value;
        if (request.StartedOn > BeijingTime.Today(clock) || request.StartedOn.Year < 2013) return ProblemHandling.BadRequest("startedOn is the day it went into operation: not in the future.");
        if (project.Status != ProjectAssessment.Reviewed || project.Opinion?.Opinion == ProjectOpinions.Rejected)
        {
            return Problems.Unprocessable($"Project {id} is {project.Status}{(project.Opinion is { } o ? $" ({o.Opinion})" : "")}; a project goes into operation on an opinion that approves it.");
        }
        var actor = Actor.From(http.User);
        var started = project with { Status = ProjectAssessment.InOperation, StartedOn = request.StartedOn };
        var owner = (await units.FindAsync(project.Owner, cancellationToken))?.Unit;
        var year = request.StartedOn.Year;
        if (owner is not null && (await reporting.EntryAsync(owner.Uscc, year, cancellationToken))?.Category == Lists.Categories.Key && await plans.FindAsync(year, cancellationToken) is not null)
        {
            // The months it runs in its first year, of its expected annual emissions.
            var months = 12 - request.StartedOn.Month + 1;
            var quantity = project.ExpectedAnnualT * months / 12;
            if (quantity > 0)
            {
                // Under an id fixed by the project, so a retry finds the application it filed instead of filing another.
                var applicationId = Digest.Hex("new-entrant:" + project.Id, 32);
                var application = new AdjustmentApplication(applicationId, year, owner.Uscc, owner.District, AdjustmentReasons.NewEntrant,
                    $"New-entrant allocation for project {project.Name} ({id}) in operation from {request.StartedOn:yyyy-MM-dd}: {months} of 12 months of its expected {project.ExpectedAnnualT} t a year.",
                    quantity, AdjustmentApplication.Submitted, clock.GetUtcNow(), actor.Id);
                if (await adjustments.TryAddAsync(application, cancellationToken))
                {
                    await audit.RecordAsync(actor, "adjustment.applied", $"adjustments/{application.Id}", null, application, cancellationToken);
                }
                // Told on a retry too (the notice's id is the application's): the regulator decides it like any other (Art. 11).
                await notices.PublishAsync(Notifications.NoticeTemplates.AdjustmentFiled(application), cancellationToken);
                started = started with { NewEntrantAdjustment = application.Id };
            }
        }
        if (!await projects.TryReplaceAsync(started, etag, cancellationToken)) return Problems.Conflict($"Project {id} changed at the same moment; read it again.");
        await audit.RecordAsync(actor, "project.in-operation", $"projects/{id}", project, started, cancellationToken);
        return TypedResults.Ok(started);
    }

    /// <summary>The project if the caller may see it: the regulator, its district, its owner; 404 otherwise.</summary>
    private static async Task<(ProjectAssessment? Project, ProblemHttpResult? Problem)> LoadAsync(string id, ClaimsPrincipal user, ProjectStore projects, CancellationToken cancellationToken)
    {
        var found = await projects.FindAsync(id, cancellationToken);
        return found is { } hit && UnitAccess.Check(user, hit.Project.Owner, hit.Project.District) == AccessVerdict.Allowed
            ? (hit.Project, null)
            : (null, ProblemHandling.NotFound($"No project {id} that you may see."));
    }
}
