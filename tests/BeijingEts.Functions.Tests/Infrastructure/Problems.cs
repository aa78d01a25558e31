namespace BeijingEts.Functions.Tests.Infrastructure;

public sealed record Problem(int Status, string? Title, string? Detail, string? Instance);

public static class ProblemAssertions
{
    /// <summary>Asserts an RFC 9457 problem response with the status, and returns it for checks of its detail.</summary>
    public static async Task<Problem> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<Problem>(body, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal((int)status, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail), $"The problem has no detail: {body}");
        return problem;
    }

    /// <summary>As above, and the detail says <paramref name="mentions"/>: the problem tells the caller what to fix.</summary>
    public static async Task<Problem> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string mentions)
    {
        var problem = await response.AssertProblemAsync(status);
        Assert.Contains(mentions, problem.Detail, StringComparison.OrdinalIgnoreCase);
        return problem;
    }
}
