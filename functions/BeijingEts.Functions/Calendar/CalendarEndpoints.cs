using BeijingEts.Domain.Calendar;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Calendar;

public sealed record CalendarYearView(int Year, string Source, IReadOnlyList<DateOnly> Holidays, IReadOnlyList<DateOnly> MakeupWorkdays, bool BuiltIn)
{
    public static CalendarYearView From(CalendarYear year) =>
        new(year.Year, year.Source, year.Holidays.Order().ToList(), year.MakeupWorkdays.Order().ToList(), CalendarService.IsBuiltIn(year));
}

/// <summary>PUT /api/calendar/{year} (regulator): loads a year's State Council holiday notice.</summary>
public sealed class PutCalendarYear : IHttpFunction
{
    public sealed record Request(IReadOnlyList<DateOnly> Holidays, IReadOnlyList<DateOnly> MakeupWorkdays, string? Source = null);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/calendar/{year:int}", HandleAsync).WithTags("Calendar");

    private static async Task<Results<Ok<CalendarYearView>, ProblemHttpResult>> HandleAsync(
        int year, Request request, HttpContext http, CalendarService calendar, AuditLog audit, CancellationToken cancellationToken)
    {
        if (year is < 2000 or > 2100)
        {
            return ProblemHandling.BadRequest($"Year {year} is out of range; give a year from 2000 to 2100.");
        }
        var problems = CalendarYear.Validate(year, request.Holidays, request.MakeupWorkdays);
        if (problems.Count > 0)
        {
            return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        }
        var loaded = new CalendarYear(year, request.Source?.Trim() ?? "", request.Holidays.ToHashSet(), request.MakeupWorkdays.ToHashSet());
        var before = await calendar.PutYearAsync(loaded, cancellationToken);
        var view = CalendarYearView.From(loaded);
        await audit.RecordAsync(Actor.From(http.User), "calendar.year-loaded", $"calendar/{year}",
            before is null ? null : CalendarYearView.From(before), view, cancellationToken);
        return TypedResults.Ok(view);
    }
}

/// <summary>GET /api/calendar/{year}: the holidays and make-up working days of one year.</summary>
public sealed class GetCalendarYear : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/calendar/{year:int}", HandleAsync).WithTags("Calendar");

    private static async Task<Results<Ok<CalendarYearView>, ProblemHttpResult>> HandleAsync(int year, CalendarService calendar, CancellationToken cancellationToken) =>
        await calendar.FindYearAsync(year, cancellationToken) is { } found
            ? TypedResults.Ok(CalendarYearView.From(found))
            : ProblemHandling.NotFound(new CalendarYearMissingException(year).Message);
}

/// <summary>GET /api/calendar/days/{date}: whether a day is a working day, and why.</summary>
public sealed class GetWorkingDay : IHttpFunction
{
    public sealed record DayAnswer(DateOnly Date, bool WorkingDay, string Kind);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/calendar/days/{date}", HandleAsync).WithTags("Calendar");

    private static async Task<Results<Ok<DayAnswer>, ProblemHttpResult>> HandleAsync(string date, CalendarService calendar, CancellationToken cancellationToken)
    {
        if (!CalendarQuery.TryParseDate(date, out var day))
        {
            return ProblemHandling.BadRequest($"'{date}' is not a date; write it as yyyy-MM-dd.");
        }
        var working = await calendar.GetAsync(cancellationToken);
        return TypedResults.Ok(new DayAnswer(day, working.IsWorkingDay(day), working.Explain(day)));
    }
}

/// <summary>GET /api/calendar/add-working-days?from=2026-02-12&amp;days=7: the date N working days after a date.</summary>
public sealed class AddWorkingDays : IHttpFunction
{
    public sealed record Answer(DateOnly From, int Days, DateOnly Date);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/calendar/add-working-days", HandleAsync).WithTags("Calendar");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(string? from, int? days, CalendarService calendar, CancellationToken cancellationToken)
    {
        if (!CalendarQuery.TryParseDate(from, out var start))
        {
            return ProblemHandling.BadRequest("Give from as a date, yyyy-MM-dd.");
        }
        if (days is null or < -3660 or > 3660)
        {
            return ProblemHandling.BadRequest("Give days as a whole number of working days from -3660 to 3660.");
        }
        var working = await calendar.GetAsync(cancellationToken);
        return TypedResults.Ok(new Answer(start, days.Value, working.AddWorkingDays(start, days.Value)));
    }
}

internal static class CalendarQuery
{
    public static bool TryParseDate(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out date);
}
