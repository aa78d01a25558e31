using System.Globalization;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Files;

using MiniExcelLibs;

namespace BeijingEts.Functions.Lists;

/// <summary>POST /api/lists/{year}/publish (regulator): computes and freezes the year's list as a new revision.</summary>
public sealed class PublishList : IHttpFunction
{
    public sealed record Answer(int Year, int Revision, bool Unchanged, DateTimeOffset PublishedAt, int KeyUnits, int ReportingUnits, ListRulesView Rules);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/lists/{year:int}/publish", HandleAsync).WithTags("Lists");

    private static async Task<Results<Created<Answer>, Ok<Answer>, ProblemHttpResult>> HandleAsync(
        int year, HttpContext http, ListPublisher publisher, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (year < 2013 || year > StatisticsRules.CurrentYearInBeijing(clock.GetUtcNow()) + 1)
        {
            return ProblemHandling.BadRequest($"Year {year} is out of range; lists are published for 2013 up to next year.");
        }
        var (revision, unchanged) = await publisher.PublishAsync(year, Actor.From(http.User), cancellationToken);
        var answer = new Answer(year, revision.Revision, unchanged, revision.PublishedAt, revision.KeyUnits, revision.ReportingUnits, revision.Rules);
        // Unchanged: the latest revision already is this list, published and recorded then.
        return unchanged ? AuditLog.Replayed(http, TypedResults.Ok(answer)) : TypedResults.Created($"/api/lists/{year}?revision={revision.Revision}", answer);
    }
}

/// <summary>
/// GET /api/lists/{year} (public, Art. 7 向社会公布): the latest published revision, or ?revision=N; as JSON, or as a
/// file with ?format=csv or ?format=xlsx.
/// </summary>
public sealed class GetList : IHttpFunction
{
    /// <summary>A list line as published; <c>voluntary</c> marks a key unit by its opt-in (Art. 10 para 1).</summary>
    public sealed record PublicEntry(string Uscc, string Name, string District, string Industry, string Category, bool Voluntary);

    public sealed record PublishedList(int Year, int Revision, DateTimeOffset PublishedAt, IReadOnlyList<int> Revisions, int KeyUnits, int ReportingUnits, IReadOnlyList<PublicEntry> Entries);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/lists/{year:int}", HandleAsync).WithTags("Lists");

    private static async Task<IResult> HandleAsync(int year, int? revision, string? format, PublishedListStore lists, CancellationToken cancellationToken)
    {
        if (!TableExport.IsOffered(format)) return TableExport.NotOffered(format);
        var revisions = await lists.RevisionsAsync(year, cancellationToken);
        if (revisions.Count == 0)
        {
            return ProblemHandling.NotFound($"No list for {year} has been published yet.");
        }
        var chosen = revision is null ? revisions[^1] : revisions.FirstOrDefault(r => r.Revision == revision);
        if (chosen is null)
        {
            return ProblemHandling.NotFound($"The {year} list has no revision {revision}; its revisions are {string.Join(", ", revisions.Select(r => r.Revision))}.");
        }
        var entries = (await lists.EntriesAsync(year, chosen.Revision, cancellationToken))
            .Select(e => new PublicEntry(e.Uscc, e.Name, e.District, e.Industry, e.Category, e.Voluntary)).ToList();
        var fileName = $"beijing-ets-list-{year}-r{chosen.Revision}";
        return format is "csv" or "xlsx"
            ? TableExport.File(format, fileName, Columns, entries.Select(e => new object?[] { e.Uscc, e.Name, e.District, e.Industry, e.Category }), "list")
            : TypedResults.Ok(new PublishedList(year, chosen.Revision, chosen.PublishedAt, revisions.Select(r => r.Revision).ToList(), chosen.KeyUnits, chosen.ReportingUnits, entries));
    }

    internal static readonly string[] Columns = ["uscc", "name", "district", "industry", "category"];
}
